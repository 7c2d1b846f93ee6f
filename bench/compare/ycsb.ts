/**
 * (b) YCSB core workloads A (50% reads / 50% updates), B (95/5) and C (reads only)
 * over a preloaded table, with scrambled-zipfian key choice. Reads are checked
 * (every key exists), and so is the final table against a model run of the same
 * op sequence.
 */
import { CHUNK_OPS, checkModel, keyNames } from './data.js';
import { measured, type RunContext } from './figures.js';
import { expect } from './measure.js';
import type { MapDoc, MapSystem, Value } from './system.js';
import { ZipfianGenerator } from './zipf.js';

/** The YCSB core workloads compared, by their read proportion. */
export const YCSB_WORKLOADS = [
  { id: 'A', readProportion: 0.5 },
  { id: 'B', readProportion: 0.95 },
  { id: 'C', readProportion: 1 },
] as const;

/** YCSB's default record count would be 1,000; we preload this many so the zipfian tail matters. */
export const YCSB_RECORDS = 10_000;

const PAD = 'x'.repeat(90); // YCSB field values are 100 bytes

interface Sequence {
  readonly keyIndex: Uint32Array;
  readonly isRead: Uint8Array;
  readonly model: Map<string, Value>;
}

function sequence(ops: number, readProportion: number, seed: number): Sequence {
  const keys = keyNames(YCSB_RECORDS);
  const zipf = new ZipfianGenerator(YCSB_RECORDS, seed);
  const keyIndex = new Uint32Array(ops);
  const isRead = new Uint8Array(ops);
  const model = new Map<string, Value>();
  for (let k = 0; k < YCSB_RECORDS; k++) model.set(keys[k] as string, `init${k}`);
  for (let i = 0; i < ops; i++) {
    keyIndex[i] = zipf.next();
    isRead[i] = zipf.uniform() < readProportion ? 1 : 0;
    if (isRead[i] === 0) model.set(keys[keyIndex[i] as number] as string, `u${i}${PAD}`);
  }
  return { keyIndex, isRead, model };
}

async function preload(system: MapSystem): Promise<MapDoc> {
  const doc = await system.create(0);
  const keys = keyNames(YCSB_RECORDS);
  for (let start = 0; start < YCSB_RECORDS; start += CHUNK_OPS) {
    await doc.write((w) => {
      for (let k = start; k < start + CHUNK_OPS; k++) w.set(keys[k] as string, `init${k}`);
    });
  }
  return doc;
}

async function play(doc: MapDoc, seq: Sequence, ops: number): Promise<number> {
  const keys = keyNames(YCSB_RECORDS);
  let misses = 0;
  const updates: number[] = [];
  for (let start = 0; start < ops; start += CHUNK_OPS) {
    const end = Math.min(start + CHUNK_OPS, ops);
    updates.length = 0;
    for (let i = start; i < end; i++) {
      if (seq.isRead[i] === 1) {
        if (doc.get(keys[seq.keyIndex[i] as number] as string) === undefined) misses += 1;
      } else {
        updates.push(i);
      }
    }
    if (updates.length > 0) {
      await doc.write((w) => {
        for (const i of updates) w.set(keys[seq.keyIndex[i] as number] as string, `u${i}${PAD}`);
      });
    }
  }
  return misses;
}

/** Runs one YCSB workload of `ops` operations on one system. */
export async function runYcsb(ctx: RunContext, system: MapSystem, workload: (typeof YCSB_WORKLOADS)[number], ops: number): Promise<void> {
  const seq = sequence(ops, workload.readProportion, 0xc0ffee + ops);
  let misses = 0;
  await measured(
    ctx,
    {
      group: `b-ycsb-${workload.id.toLowerCase()}`,
      metric: 'throughput',
      system: system.name,
      axis: 'ops',
      x: ops,
      ops,
      note: `YCSB ${workload.id}: ${workload.readProportion * 100}% reads over ${YCSB_RECORDS} preloaded records, scrambled zipfian (0.99), updates committed every ${CHUNK_OPS} ops; ops = reads + updates; every read and the final table checked`,
    },
    {
      setup: () => preload(system),
      run: async (doc) => {
        misses = await play(doc, seq, ops);
      },
      check: (doc) => {
        expect(misses === 0, `${misses} reads found no record`);
        checkModel(doc, seq.model);
      },
      teardown: (doc) => doc.close(),
    },
  );
}
