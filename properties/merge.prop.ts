/** Merge is commutative, associative and idempotent; replicas exchanging ops in any order, with duplicates and gaps, converge. Replay: see fc-config.ts. */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type JsonValue, ManualClock, type Op, Replica, seededRandom } from '../src/core/index.js';
import { fcParams } from './fc-config.js';
import { KEYS, opSetArb, referenceFold, referenceVersionVector, sortedVv, valueArb, view } from './model.js';

/** A delivery plan for an op set: an order (permutation), extra duplicates, a batch split, and whether batches race. */
const deliveryArb = (ops: readonly Op[]) =>
  fc.record({
    order: fc.shuffledSubarray([...ops.keys()], { minLength: ops.length, maxLength: ops.length }),
    duplicates: fc.array(fc.nat(Math.max(0, ops.length - 1)), { maxLength: ops.length === 0 ? 0 : 10 }),
    cuts: fc.array(fc.nat(40), { maxLength: 6 }),
    concurrent: fc.boolean(),
  });

async function deliver(ops: readonly Op[], plan: { order: number[]; duplicates: number[]; cuts: number[]; concurrent: boolean }): Promise<Replica> {
  const stream = plan.order.map((i) => ops[i] as Op);
  for (const d of plan.duplicates) stream.splice(d % (stream.length + 1), 0, ops[d] as Op);
  const cuts = [...new Set(plan.cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
  const batches: Op[][] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    batches.push(stream.slice(from, cut));
    from = cut;
  }
  const replica = await Replica.open({ replicaId: 'receiver', clock: new ManualClock(0) });
  if (plan.concurrent) await Promise.all(batches.map((batch) => replica.applyRemote(batch)));
  else for (const batch of batches) await replica.applyRemote(batch);
  return replica;
}

describe('merge', () => {
  it('is commutative, associative and idempotent: any order, grouping and duplication gives the reference state', async () => {
    await fc.assert(
      fc.asyncProperty(
        opSetArb.chain((ops) => fc.tuple(fc.constant(ops), deliveryArb(ops), deliveryArb(ops))),
        async ([ops, first, second]) => {
          const x = await deliver(ops, first);
          const y = await deliver(ops, second);
          const expected = JSON.stringify({ entries: referenceFold(ops), vv: sortedVv(referenceVersionVector(ops)) });
          if (view(x) !== expected || view(y) !== expected) throw new Error(`diverged:\n x=${view(x)}\n y=${view(y)}\n expected=${expected}`);
          for (const key of KEYS) {
            if (JSON.stringify(x.history(key)) !== JSON.stringify(y.history(key))) throw new Error(`history of ${key} differs`);
          }
        },
      ),
      fcParams(1_000),
    );
  });
});

type Command =
  | { kind: 'write'; at: number; key: string; value: JsonValue }
  | { kind: 'delete'; at: number; key: string }
  | { kind: 'clock'; at: number; deltaMs: number }
  | { kind: 'sync'; from: number; to: number; keep: boolean[]; duplicate: number; shuffleSeed: number; racing: boolean };

const commandArb = (replicas: number): fc.Arbitrary<Command> =>
  fc.oneof(
    fc.record({ kind: fc.constant('write' as const), at: fc.nat(replicas - 1), key: fc.constantFrom(...KEYS), value: valueArb }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(replicas - 1), key: fc.constantFrom(...KEYS) }),
    fc.record({ kind: fc.constant('clock' as const), at: fc.nat(replicas - 1), deltaMs: fc.integer({ min: -20, max: 20 }) }),
    fc.record({
      kind: fc.constant('sync' as const),
      from: fc.nat(replicas - 1),
      to: fc.nat(replicas - 1),
      keep: fc.array(fc.boolean(), { maxLength: 12 }),
      duplicate: fc.nat(3),
      shuffleSeed: fc.nat(),
      // A racing sync is not awaited: the next command's write joins its commit group.
      racing: fc.boolean(),
    }),
  );

/** Fisher-Yates with a seeded generator, so a shrunk counterexample replays the same order. */
function shuffle<T>(items: T[], seed: number): T[] {
  const random = seededRandom(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.nextUint32() % (i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

describe('replicas', () => {
  it('exchanging ops in arbitrary orders, with duplicates and gaps, converge to the reference state', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }).chain((n) => fc.tuple(fc.constant(n), fc.array(commandArb(n), { maxLength: 40 }))),
        async ([n, commands]) => {
          const clocks = Array.from({ length: n }, (_, i) => new ManualClock(100 + i * 7));
          const replicas = await Promise.all(clocks.map((clock, i) => Replica.open({ replicaId: `r${i}`, clock })));
          const written: Op[] = [];
          const racing: Promise<unknown>[] = [];
          for (const command of commands) {
            if (command.kind === 'write') written.push(await (replicas[command.at] as Replica).set(command.key, command.value));
            else if (command.kind === 'delete') written.push(await (replicas[command.at] as Replica).delete(command.key));
            else if (command.kind === 'clock') (clocks[command.at] as ManualClock).advance(command.deltaMs);
            else {
              const from = replicas[command.from] as Replica;
              const to = replicas[command.to] as Replica;
              // A lossy, reordering, duplicating link: drop some ops (gaps), repeat some, shuffle.
              let ops = from.opsSince(to.versionVector()).filter((_, i) => command.keep[i] ?? true);
              ops = shuffle(ops.concat(ops.slice(0, command.duplicate)), command.shuffleSeed);
              if (command.racing) racing.push(to.applyRemote(ops));
              else await to.applyRemote(ops);
            }
          }
          await Promise.all(racing);
          // Liveness: heal the links and sync every pair until nothing is left to send.
          for (let round = 0; round < n; round++) {
            for (const from of replicas) for (const to of replicas) if (from !== to) await to.applyRemote(from.opsSince(to.versionVector()));
          }
          const expected = JSON.stringify({ entries: referenceFold(written), vv: sortedVv(referenceVersionVector(written)) });
          for (const replica of replicas) {
            if (view(replica) !== expected) throw new Error(`${replica.replicaId} diverged: ${view(replica)} expected ${expected}`);
          }
        },
      ),
      fcParams(800),
    );
  });
});
