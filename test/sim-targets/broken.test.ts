/**
 * The target checks can fail: deliberately broken adapters are caught, and
 * the failure report names the seed and prints a command that replays it
 * (which, run again, reproduces the same trace and violations).
 */
import { describe, expect, it } from 'vitest';
import { loadTarget } from '../../src/cli/load-target.js';
import type { SimOverrides } from '../../src/sim/options.js';
import { failureReport } from '../../src/sim/report.js';
import { type CrdtTarget, runTarget, shrinkTargetPlan, type TargetRunResult, targetHarness, targetOptions, tidelogTarget, yjsTarget } from '../../src/sim/targets/index.js';
import { ackBeforeStoreTarget, arrivalOrderTarget, yjsAckBeforeStoreTarget } from './broken-adapters.js';

const checkersOf = (violations: readonly { checker: string }[]): Set<string> => new Set(violations.map((v) => v.checker));
const MODULE = 'test/sim-targets/broken-adapters.ts';
const reportOf = (target: CrdtTarget, spec: string, result: TargetRunResult, overrides: SimOverrides): string[] => failureReport(targetHarness(target, spec), result, overrides);

describe('broken adapters are caught', () => {
  it('lww-order and convergence catch a target that breaks ties by arrival order', async () => {
    const overrides: SimOverrides = { steps: 300, replicas: 3 };
    const result = await runTarget(arrivalOrderTarget, targetOptions(1, overrides), { keepTrace: true });
    const found = checkersOf(result.violations);
    expect(found).toContain('lww-order');
    expect(found).toContain('convergence');
    const report = reportOf(arrivalOrderTarget, `${MODULE}#arrivalOrderTarget`, result, overrides).join('\n');
    expect(report).toContain('FAILED seed 1 target arrival-order');
    // The excerpt sits around the write a violation names, not at the start of the run.
    const named = result.violations.find((v) => v.checker === 'lww-order')?.subject?.write;
    expect(report).toMatch(/trace excerpt[\s\S]*\n {4}#\d+ \d+ write n\d #\d+ /);
    expect(report).not.toContain(' write n1 #0 ');
    expect(Number(named)).toBeGreaterThan(100);
    expect(report).toContain(`replay: npx tidelog replay 1 --target ${MODULE}#arrivalOrderTarget --steps 300 --replicas 3`);
  });

  it('acked-writes catches a target that acknowledges a write before it is stored', async () => {
    const overrides: SimOverrides = { steps: 300, replicas: 3, fsyncMsMax: 100, faults: ['crash', 'isolate', 'drop', 'reorder', 'duplicate'], faultRate: 0.05, dropProbability: 0.3 };
    const result = await runTarget(ackBeforeStoreTarget, targetOptions(1, overrides), { keepTrace: true });
    expect(checkersOf(result.violations)).toContain('acked-writes');
    expect(result.violations.find((v) => v.checker === 'acked-writes')?.message).toMatch(/^acknowledged write .* is lost on n\d/);
    const report = reportOf(ackBeforeStoreTarget, `${MODULE}#ackBeforeStoreTarget`, result, overrides).join('\n');
    expect(report).toContain('FAILED seed 1 target ack-before-store(tidelog)');
    expect(report).toMatch(/replay: npx tidelog replay 1 --target test\/sim-targets\/broken-adapters.ts#ackBeforeStoreTarget --steps 300 .*--fsync-ms-max 100 --faults crash,isolate,drop,reorder,duplicate/);
    // The correct adapter passes the very same schedule.
    const control = await runTarget(tidelogTarget, targetOptions(1, overrides));
    expect(control.violations).toEqual([]);
    expect(control.plan).toEqual(result.plan);
  });

  it('acked-writes catches the Yjs adapter acknowledging before it stores (no LWW order to lean on)', async () => {
    const overrides: SimOverrides = { steps: 300, replicas: 3, fsyncMsMax: 100, faults: ['crash', 'isolate', 'drop', 'reorder', 'duplicate'], faultRate: 0.05, dropProbability: 0.3 };
    const result = await runTarget(yjsAckBeforeStoreTarget, targetOptions(2, overrides));
    expect(result.checks).not.toContain('lww-order');
    expect(checkersOf(result.violations)).toEqual(new Set(['acked-writes']));
    const control = await runTarget(yjsTarget, targetOptions(2, overrides));
    expect(control.violations).toEqual([]);
  });

  it('the replay command reproduces the failure: the module loads by path and gives the same trace', async () => {
    const overrides: SimOverrides = { steps: 300, replicas: 3 };
    const first = await runTarget(arrivalOrderTarget, targetOptions(1, overrides));
    const loaded = await loadTarget(`${MODULE}#arrivalOrderTarget`);
    const again = await runTarget(loaded, targetOptions(1, overrides));
    expect(again.traceHash).toBe(first.traceHash);
    expect(again.violations).toEqual(first.violations);
  });

  it('shrinking cuts the failing schedule down to a crash right after an acknowledged write', async () => {
    const overrides: SimOverrides = { steps: 300, replicas: 3, fsyncMsMax: 100, faults: ['crash', 'isolate', 'drop', 'reorder', 'duplicate'], faultRate: 0.05, dropProbability: 0.3 };
    const result = await runTarget(ackBeforeStoreTarget, targetOptions(1, overrides));
    const shrunk = await shrinkTargetPlan(ackBeforeStoreTarget, result.options, result.plan, 'acked-writes', { runsMax: 60 });
    expect(shrunk.actionsBefore).toBe(result.plan.actions.length);
    expect(shrunk.plan.actions.length).toBeLessThan(result.plan.actions.length / 10);
    expect(shrunk.plan.actions.some((a) => a.kind === 'crash')).toBe(true);
    expect(shrunk.violations.some((v) => v.checker === 'acked-writes')).toBe(true);
    // The shrunk schedule replays to the same failure.
    const again = await runTarget(ackBeforeStoreTarget, result.options, { plan: shrunk.plan });
    expect(again.violations).toEqual(shrunk.violations);
  });

  it('an adapter that throws is a violation, not a crashed run: apply errors and a failing restart are reported', async () => {
    let opens = 0;
    const throwing: typeof tidelogTarget = {
      name: 'throwing',
      semantics: 'own',
      async open(options) {
        opens += 1;
        if (options.durable.length > 0) throw new Error('cannot reopen');
        const inner = await tidelogTarget.open(options);
        return { ...inner, write: (w) => inner.write(w), read: () => inner.read(), summary: () => inner.summary(), payloadFor: (p) => inner.payloadFor(p), apply: async () => Promise.reject(new Error('no merging here')) };
      },
    };
    const result = await runTarget(throwing, targetOptions(3, { steps: 200, replicas: 2, faults: ['crash'], faultRate: 0.05, livenessBudgetMs: 2_000 }));
    const found = checkersOf(result.violations);
    expect(found).toContain('apply');
    expect(found).toContain('simulator');
    expect(result.violations.find((v) => v.checker === 'simulator')?.message).toMatch(/restarting n\d failed: cannot reopen/);
    expect(opens).toBeGreaterThan(2);
  });
});
