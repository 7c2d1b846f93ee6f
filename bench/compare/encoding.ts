/**
 * (e) Encoding and decoding a replica's full state and an incremental update
 * (time and bytes), and (f) cold open from storage. One source replica per
 * system and size serves all of them; every decode is checked key by key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHUNK_OPS, checkSets, readAll, writeSets } from './data.js';
import { measured, type RunContext, recorded } from './figures.js';
import { expect } from './measure.js';
import type { MapDoc, MapSystem } from './system.js';

/** Ops written after the base state to form the incremental update. */
export const DELTA_OPS = CHUNK_OPS;

interface Holder {
  doc?: MapDoc;
  bytes?: Uint8Array;
  /** Keys read back with their expected value inside the timed run. */
  matched?: number;
}

/** Opens a replica from stored data in `dir` (the cold-open path); Tidelog may use its file log. */
export type ColdOpener = (dir: string, client: number) => Promise<MapDoc>;

/** Prepares `dir` from a source replica and returns how to open it cold. */
export type ColdStore = (source: MapDoc, dir: string, ops: number, keyCount: number) => Promise<ColdOpener>;

/** The default store for every system: the encoded full state in one file, read back and loaded. */
export function savedBytesStore(system: MapSystem): ColdStore {
  return async (source, dir) => {
    writeFileSync(join(dir, 'state.bin'), source.encodeState());
    return async (openDir, client) => system.load(new Uint8Array(await readFile(join(openDir, 'state.bin'))), client);
  };
}

/** One way of storing and cold-opening a system's replica; `group` names its table (`f-cold-open`, or a variant). */
export interface ColdVariant {
  readonly group: string;
  readonly store: ColdStore;
  readonly note: string;
}

/** Runs (e) and (f) for one system at `ops` ops over `keyCount` keys. */
export async function runEncoding(ctx: RunContext, system: MapSystem, ops: number, keyCount: number, colds: readonly ColdVariant[]): Promise<void> {
  const base = { system: system.name, axis: 'ops', x: ops, ops } as const;
  if (ctx.budget.skipReason(`e-encode/decode full/${system.name}/ops`, ops) !== undefined) {
    // `measured` records the skip under the same budget verdict; the plan never runs.
    await measured(ctx, { ...base, group: 'e-encode', metric: 'decode full' }, { setup: async () => undefined, run: async () => undefined, check: () => undefined });
    return;
  }
  const source = await system.create(1);
  await writeSets(source, 0, ops, keyCount);
  const full = source.encodeState();
  recorded(ctx, {
    ...base,
    group: 'e-encode',
    metric: 'full state bytes',
    value: full.byteLength,
    unit: 'bytes',
    note: `${ops} ops over ${keyCount} keys, with the history the system keeps`,
  });
  await measured(
    ctx,
    { ...base, group: 'e-encode', metric: 'encode full', note: 'encode the whole state; ops = ops it holds' },
    {
      setup: async (): Promise<Holder> => ({}),
      run: async (h) => {
        h.bytes = source.encodeState();
      },
      check: (h) => expect(h.bytes?.byteLength === full.byteLength, 'encoded size changed between runs'),
    },
  );
  await measured(
    ctx,
    {
      ...base,
      group: 'e-encode',
      metric: 'decode full',
      note: 'load the full state into a new replica and read every key (timed, so lazy decoding is paid for); every key checked',
    },
    {
      setup: async (): Promise<Holder> => ({}),
      run: async (h) => {
        h.doc = await system.load(full, 2);
        h.matched = readAll(h.doc, ops, keyCount);
      },
      check: (h) => {
        expect(h.matched === Math.min(ops, keyCount), `read back ${h.matched} keys`);
        checkSets(h.doc as MapDoc, ops, keyCount);
      },
      teardown: (h) => h.doc?.close(),
    },
  );
  for (const cold of colds) await runCold(ctx, system, source, ops, keyCount, cold);
  await runDelta(ctx, system, source, full, ops, keyCount);
  if (source.encodeCompacted !== undefined) {
    const compacted = await source.encodeCompacted();
    recorded(ctx, {
      ...base,
      group: 'e-encode',
      metric: 'compacted state bytes',
      value: compacted.byteLength,
      unit: 'bytes',
      note: 'after compact({ retainOps: 0 }): one winning op per key',
    });
  }
  await source.close();
}

async function runDelta(ctx: RunContext, system: MapSystem, source: MapDoc, full: Uint8Array, ops: number, keyCount: number): Promise<void> {
  const base = { system: system.name, axis: 'ops', x: ops, group: 'e-encode' } as const;
  const version = source.version();
  await writeSets(source, ops, ops + DELTA_OPS, keyCount);
  const delta = source.encodeSince(version);
  recorded(ctx, { ...base, ops: DELTA_OPS, metric: 'delta bytes', value: delta.byteLength, unit: 'bytes', note: `the last ${DELTA_OPS} ops as an incremental update` });
  await measured(
    ctx,
    { ...base, ops: DELTA_OPS, metric: 'encode delta', note: `encode the ${DELTA_OPS} ops written since a version` },
    {
      setup: async (): Promise<Holder> => ({}),
      run: async (h) => {
        h.bytes = source.encodeSince(version);
      },
      check: (h) => expect(h.bytes?.byteLength === delta.byteLength, 'delta size changed between runs'),
    },
    ops,
  );
  await measured(
    ctx,
    { ...base, ops: DELTA_OPS, metric: 'apply delta', note: `merge the delta into a replica holding the ${ops}-op base; every key checked` },
    {
      setup: async (): Promise<Holder> => ({ doc: await system.load(full, 3) }),
      run: async (h) => (h.doc as MapDoc).apply(delta),
      check: (h) => checkSets(h.doc as MapDoc, ops + DELTA_OPS, keyCount),
      teardown: (h) => h.doc?.close(),
    },
    ops,
  );
}

async function runCold(ctx: RunContext, system: MapSystem, source: MapDoc, ops: number, keyCount: number, cold: ColdVariant): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `tidelog-cold-${system.name}-`));
  try {
    const open = await cold.store(source, dir, ops, keyCount);
    await measured(
      ctx,
      {
        system: system.name,
        axis: 'ops',
        x: ops,
        ops,
        group: cold.group,
        metric: 'throughput',
        note: `${cold.note}, then read every key (timed); ops = ops written to the store; every key checked`,
      },
      {
        setup: async (): Promise<Holder> => ({}),
        run: async (h) => {
          h.doc = await open(dir, 4);
          h.matched = readAll(h.doc, ops, keyCount);
        },
        check: (h) => {
          expect(h.matched === Math.min(ops, keyCount), `read back ${h.matched} keys`);
          checkSets(h.doc as MapDoc, ops, keyCount);
        },
        teardown: (h) => h.doc?.close(),
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
