/**
 * (g) Memory per op and per live key, one child process per measurement
 * (see memory-child.ts for why). Per op: N sets over 1,000 keys, so the growth
 * is history. Per live key: N sets over N keys.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RunContext, recorded } from './figures.js';
import type { MemoryReport } from './memory-child.js';
import { progress } from './measure.js';
import type { MapSystem } from './system.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));

/** Keys of the per-op configuration. */
export const MEMORY_HOT_KEYS = 1000;

async function measureChild(system: MapSystem, ops: number, keyCount: number): Promise<MemoryReport> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, system.name, String(ops), String(keyCount)], {
    maxBuffer: 1 << 20,
    timeout: 300_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop() as string) as MemoryReport;
}

/** Runs both memory configurations for one system at `ops` ops (skipped when (a) showed the size is too slow). */
export async function runMemory(ctx: RunContext, system: MapSystem, ops: number): Promise<void> {
  const configs = [
    { metric: 'bytes per op', keys: MEMORY_HOT_KEYS, per: ops, note: `${ops} sets over ${MEMORY_HOT_KEYS} keys: growth / ops (the cost of history)` },
    { metric: 'bytes per live key', keys: ops, per: ops, note: `${ops} sets over ${ops} distinct keys: growth / keys` },
  ];
  for (const config of configs) {
    const base = { group: 'g-memory', metric: config.metric, system: system.name, axis: 'ops', x: ops, ops } as const;
    const skipped = ctx.budget.skipReason(`a-sets/throughput/${system.name}/ops`, ops);
    if (skipped !== undefined) {
      progress(`g-memory ${config.metric} ${system.name} ops=${ops}: ${skipped}`);
      ctx.figures.push({ ...base, skipped });
      continue;
    }
    const report = await measureChild(system, ops, config.keys);
    recorded(ctx, {
      ...base,
      value: report.rssBytes / config.per,
      unit: 'B (RSS)',
      note: `${config.note}; RSS growth after GC (counts WebAssembly memory); JS heap+external growth ${(report.jsBytes / config.per).toFixed(1)} B; values checked in the child`,
    });
  }
}
