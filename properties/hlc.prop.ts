/** The HLC is monotonic and causal under arbitrary clock skew and jumps (backwards too). Replay: see fc-config.ts. */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { compareOps, HybridLogicalClock, ManualClock, type Op, Replica } from '../src/core/index.js';
import { fcParams } from './fc-config.js';
import { referenceOrder } from './model.js';

type Step = { kind: 'jump'; at: number; toMs: number } | { kind: 'write'; at: number; key: number } | { kind: 'receive'; at: number; from: number; count: number };

const stepArb = (n: number): fc.Arbitrary<Step> =>
  fc.oneof(
    // Jumps anywhere, far backwards included: skew between replicas is arbitrary.
    fc.record({ kind: fc.constant('jump' as const), at: fc.nat(n - 1), toMs: fc.oneof(fc.nat(50), fc.integer({ min: 0, max: 10_000_000 })) }),
    fc.record({ kind: fc.constant('write' as const), at: fc.nat(n - 1), key: fc.nat(2) }),
    fc.record({ kind: fc.constant('receive' as const), at: fc.nat(n - 1), from: fc.nat(n - 1), count: fc.nat(5) }),
  );

describe('HLC', () => {
  it('local ops strictly increase, never fall behind the physical clock, and order after everything their replica has seen', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }).chain((n) => fc.tuple(fc.constant(n), fc.array(fc.nat(10_000), { minLength: n, maxLength: n }), fc.array(stepArb(n), { maxLength: 60 }))),
        async ([n, startsMs, steps]) => {
          const clocks = startsMs.map((ms) => new ManualClock(ms));
          const replicas = await Promise.all(clocks.map((clock, i) => Replica.open({ replicaId: `r${i}`, clock })));
          const lastLocal: (Op | undefined)[] = new Array(n).fill(undefined);
          // The greatest op (by merge order) each replica has seen, written or received.
          const seenMax: (Op | undefined)[] = new Array(n).fill(undefined);
          const see = (i: number, op: Op) => {
            const current = seenMax[i];
            if (current === undefined || referenceOrder(op, current) > 0) seenMax[i] = op;
          };
          for (const step of steps) {
            const replica = replicas[step.at] as Replica;
            if (step.kind === 'jump') (clocks[step.at] as ManualClock).set(step.toMs);
            else if (step.kind === 'write') {
              const physicalMs = (clocks[step.at] as ManualClock).now();
              const op = await replica.set(`k${step.key}`, step.at);
              const previous = lastLocal[step.at];
              if (previous !== undefined && compareOps(op, previous) <= 0) throw new Error(`not monotonic: ${JSON.stringify(previous)} then ${JSON.stringify(op)}`);
              if (op.wall < physicalMs) throw new Error(`wall ${op.wall} behind the physical clock ${physicalMs}`);
              const seen = seenMax[step.at];
              if (seen !== undefined && referenceOrder(op, seen) <= 0) throw new Error(`not causal: ${JSON.stringify(op)} does not order after seen ${JSON.stringify(seen)}`);
              lastLocal[step.at] = op;
              see(step.at, op);
            } else if (step.at !== step.from) {
              const ops = (replicas[step.from] as Replica).opsSince(replica.versionVector()).slice(0, step.count);
              await replica.applyRemote(ops);
              for (const op of ops) see(step.at, op);
            }
          }
          // The order is total: no two distinct ops compare equal.
          const all = replicas.flatMap((r) => r.opsSince({}));
          for (const a of all) for (const b of all) if (a !== b && (a.replica !== b.replica || a.seq !== b.seq) && compareOps(a, b) === 0) throw new Error('two ops tie');
        },
      ),
      fcParams(500),
    );
  });

  it('a bare clock ticks strictly upward through any sequence of physical readings and observations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ now: fc.integer({ min: -5, max: 1_000 }) }), fc.record({ observe: fc.record({ wall: fc.nat(1_000), logical: fc.nat(5) }) })), { maxLength: 80 }),
        (events) => {
          const clock = new ManualClock(0);
          const hlc = new HybridLogicalClock(clock);
          let last = { wall: -1, logical: 0 };
          let observedMax = { wall: 0, logical: 0 };
          for (const event of events) {
            if ('observe' in event) {
              hlc.observe(event.observe);
              if (event.observe.wall > observedMax.wall || (event.observe.wall === observedMax.wall && event.observe.logical > observedMax.logical)) observedMax = event.observe;
              continue;
            }
            clock.set(event.now);
            const ts = hlc.tick();
            const isAfter = (a: { wall: number; logical: number }, b: { wall: number; logical: number }) => a.wall > b.wall || (a.wall === b.wall && a.logical > b.logical);
            if (!isAfter(ts, last) || !isAfter(ts, observedMax) || ts.wall < event.now) throw new Error(`bad tick ${JSON.stringify(ts)} after ${JSON.stringify(last)}`);
            last = ts;
          }
        },
      ),
      fcParams(1_000),
    );
  });
});
