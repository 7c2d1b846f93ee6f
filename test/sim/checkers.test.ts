/**
 * The checkers must be able to fail: deliberately broken targets (a store that
 * acknowledges before its write is durable, a protocol without repair, a state
 * that breaks ties by arrival order) are each caught, and the shrinker cuts
 * the failing schedule down while the same checker still fails.
 */
import { describe, expect, it } from 'vitest';
import { parseFaults, swarmOptions } from '../../src/sim/options.js';
import { shrinkPlan } from '../../src/sim/tidelog/harness.js';
import { runSimulation } from '../../src/sim/tidelog/simulator.js';
import { SyncStateTracker } from '../../src/sync/sync-state.js';

const checkersOf = (violations: readonly { checker: string }[]): Set<string> => new Set(violations.map((v) => v.checker));

describe('checkers catch broken targets', () => {
  it('acked-writes catches a store that acknowledges before the write is synced', async () => {
    const options = swarmOptions(3, { steps: 400, bug: 'ack-before-sync', faults: parseFaults('crash'), faultRate: 0.05, fsyncMsMax: 5 });
    const result = await runSimulation(options);
    expect(checkersOf(result.violations)).toContain('acked-writes');
    expect(result.idReuse.detected).toBeGreaterThan(0);
  });

  it('the same workload and faults pass without the bug', async () => {
    const result = await runSimulation(swarmOptions(3, { steps: 400, faults: parseFaults('crash'), faultRate: 0.05, fsyncMsMax: 5 }));
    expect(result.violations).toEqual([]);
  });

  it('sync-status catches a status that never takes in what peers confirm (and passes with it)', async () => {
    const options = swarmOptions(5, { steps: 300 });
    expect(checkersOf((await runSimulation(options)).violations)).not.toContain('sync-status');
    const original = SyncStateTracker.prototype.peerReported;
    // The planted bug: hellos update the last peer, but confirmations are never counted.
    SyncStateTracker.prototype.peerReported = function (this: SyncStateTracker) {};
    try {
      const result = await runSimulation(options);
      expect(result.violations.filter((v) => v.checker === 'sync-status').length).toBeGreaterThan(0);
      expect(checkersOf(result.violations)).toEqual(new Set(['sync-status']));
    } finally {
      SyncStateTracker.prototype.peerReported = original;
    }
  });

  it('liveness and convergence catch a protocol that never repairs lost frames', async () => {
    const result = await runSimulation(swarmOptions(4, { steps: 200, bug: 'no-repair', faults: parseFaults('drop'), dropProbability: 0.3, livenessBudgetMs: 5_000 }));
    const found = checkersOf(result.violations);
    expect(found).toContain('liveness');
    expect(found).toContain('convergence');
    expect(result.convergence).toBeUndefined();
  });

  it('reference-model, convergence and equal-vectors catch a state that breaks ties by arrival order', async () => {
    const result = await runSimulation(swarmOptions(6, { steps: 300, replicas: 4, bug: 'arrival-order', faults: parseFaults('reorder,slow'), keySpace: 4, delayMsMax: 40 }));
    const found = checkersOf(result.violations);
    expect(found).toContain('reference-model');
    expect(found.has('convergence') || found.has('equal-vectors')).toBe(true);
  });

  it('shrinks a failing schedule to a much smaller one that still fails the same checker', async () => {
    const options = swarmOptions(3, { steps: 300, bug: 'ack-before-sync', faults: parseFaults('crash'), faultRate: 0.05, fsyncMsMax: 5 });
    const first = await runSimulation(options);
    expect(checkersOf(first.violations)).toContain('acked-writes');
    const shrunk = await shrinkPlan(options, first.plan, 'acked-writes', { runsMax: 60 });
    expect(shrunk.plan.actions.length).toBeLessThan(first.plan.actions.length / 4);
    expect(checkersOf(shrunk.violations)).toContain('acked-writes');
    const again = await runSimulation(options, { plan: shrunk.plan });
    expect(checkersOf(again.violations)).toContain('acked-writes');
  });
});
