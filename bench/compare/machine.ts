/**
 * The machine's limits, measured in the same run so the report shows how far
 * each system is from them: a plain `Map.set` loop (the in-memory ceiling), raw
 * sequential write bandwidth, and the fdatasync rate (the ceiling on durable
 * commits per second for any store that syncs each commit).
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyNames } from './data.js';
import { formatRate, type RunContext, recorded } from './figures.js';
import { expect, progress, trial } from './measure.js';

/** Runs the three limits and records them under the `machine` system. */
export async function runMachine(ctx: RunContext, ops: number): Promise<void> {
  const keys = keyNames(10_000);
  const result = await trial({
    label: 'machine Map.set',
    iterations: 5,
    warmup: true,
    setup: async () => new Map<string, number>(),
    run: async (m) => {
      for (let i = 0; i < ops; i++) m.set(keys[i % 10_000] as string, i);
    },
    check: (m) => expect(m.size === Math.min(ops, 10_000) && m.get('k0') === 10_000 * Math.floor((ops - 1) / 10_000), 'Map.set loop lost a write'),
  });
  const opsPerSecond = (ops * 1000) / result.cpuMs;
  ctx.figures.push({
    group: 'machine',
    metric: 'Map.set loop',
    system: 'machine',
    axis: 'ops',
    x: ops,
    ops,
    opsPerSecond,
    cpuMs: result.cpuMs,
    note: `${ops} Map.set over 10,000 keys`,
  });
  progress(`machine Map.set loop: ${formatRate(opsPerSecond)} ops/s`);
  const dir = mkdtempSync(join(tmpdir(), 'tidelog-machine-'));
  try {
    const bandwidth = sequentialWrite(join(dir, 'seq.bin'), ctx.quick ? 64 : 256);
    recorded(ctx, {
      group: 'machine',
      metric: 'sequential write',
      system: 'machine',
      axis: 'ops',
      x: 0,
      ops: 0,
      value: bandwidth,
      unit: 'MB/s',
      note: '1 MiB writeSync calls, one fdatasync at the end, time includes the sync',
    });
    const syncs = fdatasyncRate(join(dir, 'sync.bin'), ctx.quick ? 1000 : 3000);
    recorded(ctx, {
      group: 'machine',
      metric: 'fdatasync rate',
      system: 'machine',
      axis: 'ops',
      x: 0,
      ops: 0,
      value: syncs,
      unit: 'syncs/s',
      note: '4 KiB append + fdatasync, repeated',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sequentialWrite(path: string, mebibytes: number): number {
  const chunk = new Uint8Array(1 << 20).fill(0x5a);
  const fd = openSync(path, 'w');
  const start = process.hrtime.bigint();
  let written = 0;
  for (let i = 0; i < mebibytes; i++) written += writeSync(fd, chunk);
  fdatasyncSync(fd);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  closeSync(fd);
  expect(written === mebibytes << 20, 'short write');
  return written / 1e6 / seconds;
}

function fdatasyncRate(path: string, durationMs: number): number {
  const block = new Uint8Array(4096).fill(0xa5);
  const fd = openSync(path, 'w');
  const start = process.hrtime.bigint();
  let syncs = 0;
  let elapsedMs = 0;
  while (elapsedMs < durationMs) {
    writeSync(fd, block);
    fdatasyncSync(fd);
    syncs += 1;
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  closeSync(fd);
  return (syncs * 1000) / elapsedMs;
}
