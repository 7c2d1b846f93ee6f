/** history and stateAt agree with the live state; compaction preserves state and convergence with a peer behind the horizon. Replay: see fc-config.ts. */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type JsonValue, ManualClock, MemoryStorage, type Op, Replica, vvCovers } from '../src/core/index.js';
import { fcParams } from './fc-config.js';
import { KEYS, opSetArb, referenceFold, referenceOrder, valueArb, view } from './model.js';

type Write = { key: string; value: JsonValue; del: boolean; advanceMs: number };
const writeArb: fc.Arbitrary<Write> = fc.record({ key: fc.constantFrom(...KEYS), value: valueArb, del: fc.boolean(), advanceMs: fc.integer({ min: -3, max: 4 }) });

/** A replica 'a' with local writes (clock skipping back and forth) interleaved with remote ops (gaps and all). */
async function build(remote: readonly Op[], writes: readonly Write[], storage = new MemoryStorage()): Promise<{ replica: Replica; clock: ManualClock; held: Op[] }> {
  const clock = new ManualClock(5);
  const replica = await Replica.open({ replicaId: 'a', clock, storage });
  const remoteOthers = remote.filter((op) => op.replica !== 'a');
  const held: Op[] = [];
  for (let i = 0; i < Math.max(writes.length, remoteOthers.length); i++) {
    const write = writes[i];
    if (write !== undefined) {
      clock.advance(write.advanceMs);
      held.push(await (write.del ? replica.delete(write.key) : replica.set(write.key, write.value)));
    }
    const op = remoteOthers[i];
    if (op !== undefined) {
      const result = await replica.applyRemote([op]);
      if (result.applied === 1) held.push(op);
    }
  }
  return { replica, clock, held };
}

const stateOf = (map: Map<string, unknown>) => JSON.stringify([...map]);

describe('history and stateAt', () => {
  it('agree with the live state and with a reference fold at every op timestamp and prefix vector', async () => {
    await fc.assert(
      fc.asyncProperty(opSetArb, fc.array(writeArb, { maxLength: 20 }), async (remote, writes) => {
        const { replica, held } = await build(remote, writes);
        const live = JSON.stringify(replica.entries());
        if (live !== JSON.stringify(referenceFold(held))) throw new Error('live state is not the fold of held ops');
        // The current vector covers exactly the contiguous ops; with no gaps that is the live state.
        const vv = replica.versionVector();
        const covered = held.filter((op) => vvCovers(vv, op.replica, op.seq));
        if (stateOf(replica.stateAt({ versionVector: vv })) !== JSON.stringify(referenceFold(covered))) throw new Error('stateAt(vv) differs from the fold of covered ops');
        if (covered.length === held.length && stateOf(replica.stateAt({ versionVector: vv })) !== live) throw new Error('stateAt(current vv) differs from entries');
        for (const op of held) {
          const at = { wall: op.wall, logical: op.logical };
          const before = held.filter((o) => o.wall < at.wall || (o.wall === at.wall && o.logical <= at.logical));
          if (stateOf(replica.stateAt({ timestamp: at })) !== JSON.stringify(referenceFold(before))) throw new Error(`stateAt(${at.wall}.${at.logical}) differs from the reference fold`);
        }
        for (const key of KEYS) {
          const history = replica.history(key);
          const expected = held.filter((op) => op.key === key).sort(referenceOrder);
          if (JSON.stringify(history) !== JSON.stringify(expected)) throw new Error(`history(${key}) is not the merge-ordered ops on it`);
          const last = history.at(-1);
          if (JSON.stringify(last?.type === 'set' ? last.value : undefined) !== JSON.stringify(replica.get(key))) throw new Error(`history(${key}) does not end at the visible value`);
        }
      }),
      fcParams(400),
    );
  });
});

describe('compaction', () => {
  it('preserves state, stateAt from the horizon on, recovery, and convergence with a peer behind the horizon', async () => {
    await fc.assert(
      fc.asyncProperty(
        opSetArb,
        fc.array(writeArb, { maxLength: 20 }),
        fc.nat(25),
        fc.array(fc.boolean(), { maxLength: 40 }),
        fc.array(writeArb, { maxLength: 4 }),
        async (remote, writes, retainOps, peerKeeps, peerWrites) => {
          const storage = new MemoryStorage();
          const { replica, clock, held } = await build(remote, writes, storage);
          const before = view(replica);
          const timestamps = held.map((op) => ({ wall: op.wall, logical: op.logical }));
          const statesBefore = timestamps.map((at) => stateOf(replica.stateAt({ timestamp: at })));
          await replica.compact({ retainOps });
          if (view(replica) !== before) throw new Error('compaction changed the visible state or vector');
          const earliest = replica.historyHorizon().clock;
          timestamps.forEach((at, i) => {
            const reachable = at.wall > earliest.wall || (at.wall === earliest.wall && at.logical >= earliest.logical);
            if (reachable && stateOf(replica.stateAt({ timestamp: at })) !== statesBefore[i]) throw new Error(`stateAt(${at.wall}.${at.logical}) changed by compaction`);
          });
          // Recovery from the compacted storage.
          const reopened = await Replica.open({ storage: await reopen(replica, storage), clock });
          if (view(reopened) !== before) throw new Error('reopened compacted replica differs');
          // A peer that saw only some of the ops (behind the horizon, with gaps) and wrote its own.
          const peer = await Replica.open({ replicaId: 'p', clock: new ManualClock(3) });
          await peer.applyRemote(held.filter((_, i) => peerKeeps[i] ?? false));
          const peerOps: Op[] = [];
          for (const w of peerWrites) peerOps.push(await (w.del ? peer.delete(w.key) : peer.set(w.key, w.value)));
          await peer.applyRemote(reopened.opsSince(peer.versionVector()), { horizon: reopened.horizon() });
          await reopened.applyRemote(peer.opsSince(reopened.versionVector()), { horizon: peer.horizon() });
          if (view(peer) !== view(reopened)) throw new Error(`peer did not converge: ${view(peer)} vs ${view(reopened)}`);
          if (JSON.stringify(peer.entries()) !== JSON.stringify(referenceFold([...held, ...peerOps]))) throw new Error('converged to the wrong state');
        },
      ),
      fcParams(400),
    );
  });
});

async function reopen(replica: Replica, storage: MemoryStorage): Promise<MemoryStorage> {
  await replica.close();
  return storage;
}
