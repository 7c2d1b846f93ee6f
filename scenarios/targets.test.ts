/**
 * Targets: the same named fault schedules, run against every built-in target
 * (Tidelog, Yjs, Automerge, Loro) through the adapter run loop. Split brain with hot
 * keys (concurrent writes to the same keys on both sides), a crash loop on one
 * replica while the network drops and duplicates, and three fixed swarm seeds
 * with every target fault on.
 */
import { describe, expect, it } from 'vitest';
import type { SimOverrides } from '../src/sim/options.js';
import { type FaultAction, makePlan, type Plan } from '../src/sim/plan.js';
import { BUILTIN_TARGETS, type CrdtTarget, runTarget, TARGET_FAULTS, type TargetRunResult, targetOptions } from '../src/sim/targets/index.js';
import { every, scenarioOptions, withFaults } from './harness.js';

async function runTargetScenario(target: CrdtTarget, seed: number, overrides: SimOverrides, faults: (plan: Plan) => FaultAction[]): Promise<TargetRunResult> {
  const options = scenarioOptions(seed, overrides);
  const base = makePlan(options);
  const result = await runTarget(target, options, { plan: withFaults(base, faults(base)) });
  expect(result.violations, JSON.stringify(result.violations.slice(0, 3))).toEqual([]);
  expect(result.convergence).toBeDefined();
  return result;
}

describe.each(Object.keys(BUILTIN_TARGETS))('target %s', (name) => {
  const target = BUILTIN_TARGETS[name] as CrdtTarget;

  it('split brain: two halves write the same hot keys apart, then converge after the heal', async () => {
    const result = await runTargetScenario(target, 101, { replicas: 4, steps: 300, keySpace: 8, keyDistribution: 'zipf' }, () => [{ kind: 'partition', atMs: 0, shape: 'split', groupA: [0, 1] }]);
    expect(result.faultsInjected.partition).toBe(1);
    expect(result.network.framesDropped).toBeGreaterThan(50);
  });

  it('crash loop: one replica crashes every 100 ms under drops and duplicates', async () => {
    const overrides: SimOverrides = { replicas: 3, steps: 300, stepIntervalMs: 10, keySpace: 32, faults: ['drop', 'duplicate'], dropProbability: 0.2, duplicateProbability: 0.2, fsyncMsMax: 10 };
    const result = await runTargetScenario(target, 202, overrides, (plan) =>
      every(50, plan.healAtMs, 100).flatMap((atMs): FaultAction[] => [
        { kind: 'crash', atMs, node: 1, torn: false },
        { kind: 'restart', atMs: atMs + 40, node: 1 },
      ]),
    );
    expect(result.faultsInjected.crash).toBeGreaterThan(5);
    expect(result.writesAcked).toBeLessThan(result.writesIssued);
  });

  it.each([7, 8, 9])('swarm seed %i with every target fault on', async (seed) => {
    const result = await runTarget(target, targetOptions(seed, { steps: 250, faults: [...TARGET_FAULTS], faultRate: 0.04 }));
    expect(result.violations).toEqual([]);
    expect(result.convergence).toBeDefined();
  });
});
