/**
 * (a) N sets over K keys from one writer, and (d) merging remote replicas' ops.
 * Both are checked key by key against the values the writers must leave.
 */
import { type Axis, measured, type RunContext } from './figures.js';
import { CHUNK_OPS, checkModel, checkSets, keyNames, writeSets } from './data.js';
import { expect } from './measure.js';
import type { MapSystem, Value } from './system.js';

/** (a): one writer, `ops` sets over `keyCount` keys, committed every {@link CHUNK_OPS}. */
export async function runSets(ctx: RunContext, system: MapSystem, ops: number, keyCount: number, axis: Axis): Promise<void> {
  await measured(
    ctx,
    {
      group: 'a-sets',
      metric: 'throughput',
      system: system.name,
      axis,
      x: axis === 'keys' ? keyCount : ops,
      ops,
      note: `${ops} sets over ${keyCount} keys, one writer, a commit every ${CHUNK_OPS} ops; ops committed; every key checked`,
    },
    {
      setup: () => system.create(0),
      run: (doc) => writeSets(doc, 0, ops, keyCount),
      check: (doc) => checkSets(doc, ops, keyCount),
      teardown: (doc) => doc.close(),
    },
  );
}

/**
 * (d): `replicas` writers each make ops/replicas sets on their own keys (op g of
 * the whole run goes to replica g mod R, key g mod K); a fresh replica merges
 * every writer's full state. Measures decode + merge, ops merged per second.
 */
export async function runMerge(ctx: RunContext, system: MapSystem, ops: number, keyCount: number, replicas: number, axis: Axis): Promise<void> {
  if (keyCount % replicas !== 0) throw new RangeError('keyCount must be a multiple of replicas so writers own disjoint keys');
  const perReplica = Math.floor(ops / replicas);
  const keys = keyNames(keyCount);
  const model = new Map<string, Value>();
  const updates: Uint8Array[] = [];
  let bytes = 0;
  const base = {
    group: 'd-merge',
    metric: 'throughput',
    system: system.name,
    axis,
    x: axis === 'replicas' ? replicas : ops,
    ops: perReplica * replicas,
  } as const;
  // Build the writers only when the size will actually run (the budget may skip it).
  if (ctx.budget.skipReason(`${base.group}/${base.metric}/${base.system}/${base.axis}`, base.ops) === undefined) {
    for (let r = 0; r < replicas; r++) {
      const writer = await system.create(r + 1);
      const origin = writer.version();
      for (let start = 0; start < perReplica; start += CHUNK_OPS) {
        const end = Math.min(start + CHUNK_OPS, perReplica);
        await writer.write((w) => {
          for (let i = start; i < end; i++) {
            const g = i * replicas + r;
            w.set(keys[g % keyCount] as string, g);
            model.set(keys[g % keyCount] as string, g);
          }
        });
      }
      const update = writer.encodeSince(origin);
      bytes += update.byteLength;
      updates.push(update);
      await writer.close();
    }
  }
  await measured(
    ctx,
    {
      ...base,
      note: `${replicas} writer(s) x ${perReplica} ops over ${keyCount} keys; a fresh replica decodes and merges their updates (${bytes} bytes) and reads every key back (timed); every key checked`,
    },
    {
      setup: async () => ({ doc: await system.create(0), matched: 0 }),
      run: async (h) => {
        for (const update of updates) await h.doc.apply(update);
        // Reading the merged state back is part of the merge: a system may not defer its work past this.
        for (const [key, value] of model) if (h.doc.get(key) === value) h.matched += 1;
      },
      check: (h) => {
        expect(h.matched === model.size, `read back ${h.matched} of ${model.size} keys`);
        checkModel(h.doc, model);
      },
      teardown: (h) => h.doc.close(),
    },
  );
}
