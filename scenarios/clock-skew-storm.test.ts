/**
 * Clock-skew storm: every replica starts up to an hour off, and clocks jump
 * by up to an hour either way every 10 ms. The HLC keeps causal order
 * (the causal-lww checker) and the replicas converge.
 */
import { expect, it } from 'vitest';
import type { FaultAction } from '../src/sim/plan.js';
import { every, parseFaults, runScenario } from './harness.js';

it('clock-skew storm: hour-sized skews and jumps keep causal last-writer-wins', async () => {
  const result = await runScenario(105, { replicas: 5, steps: 500, keySpace: 6, faults: parseFaults('skew'), clockSkewMsMax: 3_600_000 }, (plan) =>
    every(3, plan.healAtMs, 10).map((t, i): FaultAction => ({ kind: 'clock-jump', atMs: t, node: i % 5, deltaMs: (i % 2 === 0 ? 1 : -1) * ((i * 7919) % 3_600_000) })),
  );
  expect(result.faultsInjected['clock-jump']).toBeGreaterThan(100);
  expect(result.convergence).toBeDefined();
});
