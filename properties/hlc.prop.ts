/**
 * The HLC is monotonic and causal under arbitrary clock skew and jumps (backwards too), and the drift bound refuses
 * exactly what lies too far ahead of a replica's clock, changing nothing when it does. Replay: see fc-config.ts.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ClockDriftError, compareOps, HybridLogicalClock, LOGICAL_MAX, ManualClock, type Op, Replica } from '../src/core/index.js';
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
  it('local ops strictly increase, never fall behind the physical clock, order after everything their replica has seen; exactly the ops past the drift bound are refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }).chain((n) =>
          fc.tuple(fc.constant(n), fc.array(fc.nat(10_000), { minLength: n, maxLength: n }), fc.array(stepArb(n), { maxLength: 60 }), fc.oneof(fc.constant(300_000), fc.nat(20_000_000))),
        ),
        async ([n, startsMs, steps, maxDriftMs]) => {
          const clocks = startsMs.map((ms) => new ManualClock(ms));
          const replicas = await Promise.all(clocks.map((clock, i) => Replica.open({ replicaId: `r${i}`, clock, maxDriftMs })));
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
              // The clock went back further than the bound behind a time this replica already used: refused.
              const tooFarBehind = (seenMax[step.at]?.wall ?? 0) - physicalMs > maxDriftMs;
              const before = replica.versionVector();
              const written = await replica.set(`k${step.key}`, step.at).catch((error: unknown) => error);
              if (written instanceof ClockDriftError !== tooFarBehind) throw new Error(`write at ${physicalMs} after seeing ${seenMax[step.at]?.wall}: ${String(written)}`);
              if (tooFarBehind) {
                if (replica.versionVector() !== before) throw new Error('a refused write changed the vector');
                continue;
              }
              const op = written as Op;
              const previous = lastLocal[step.at];
              if (previous !== undefined && compareOps(op, previous) <= 0) throw new Error(`not monotonic: ${JSON.stringify(previous)} then ${JSON.stringify(op)}`);
              if (op.wall < physicalMs) throw new Error(`wall ${op.wall} behind the physical clock ${physicalMs}`);
              const seen = seenMax[step.at];
              if (seen !== undefined && referenceOrder(op, seen) <= 0) throw new Error(`not causal: ${JSON.stringify(op)} does not order after seen ${JSON.stringify(seen)}`);
              lastLocal[step.at] = op;
              see(step.at, op);
            } else if (step.at !== step.from) {
              const ops = (replicas[step.from] as Replica).opsSince(replica.versionVector()).slice(0, step.count);
              const limitWall = (clocks[step.at] as ManualClock).now() + maxDriftMs;
              const tooFarAhead = ops.some((op) => op.wall > limitWall);
              const before = replica.versionVector();
              const applied = await replica.applyRemote(ops).catch((error: unknown) => error);
              if (applied instanceof ClockDriftError !== tooFarAhead) throw new Error(`receive with limit ${limitWall} of ${JSON.stringify(ops.map((op) => op.wall))}: ${String(applied)}`);
              if (tooFarAhead) {
                if (replica.versionVector() !== before) throw new Error('a refused batch changed the vector');
                continue;
              }
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
        fc.array(fc.oneof(fc.record({ now: fc.oneof(fc.integer({ min: -5, max: 1_000 }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60)) }), fc.record({ observe: fc.record({ wall: fc.nat(1_000), logical: fc.oneof(fc.nat(5), fc.integer({ min: LOGICAL_MAX - 3, max: LOGICAL_MAX })) }) })), { maxLength: 80 }),
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
            // A reading that is not a time (NaN, Infinity, past WALL_MAX) is never adopted; the counter never passes its bound.
            const usable = Number.isFinite(event.now) && event.now <= 2 ** 48 - 1;
            if (!isAfter(ts, last) || !isAfter(ts, observedMax) || (usable && ts.wall < event.now) || ts.logical > LOGICAL_MAX || ts.wall > 2 ** 48 - 1) {
              throw new Error(`bad tick ${JSON.stringify(ts)} after ${JSON.stringify(last)}`);
            }
            last = ts;
          }
        },
      ),
      fcParams(1_000),
    );
  });
});
