/**
 * Crash loop: one replica crashes every 25 ms and restarts 10 ms later for the
 * whole run, with messages dropped on top. It must still catch up at the end
 * and lose nothing it acknowledged.
 */
import { expect, it } from 'vitest';
import type { FaultAction } from '../src/sim/plan.js';
import { every, parseFaults, runScenario } from './harness.js';

it('crash loop: a replica crashing every 25 ms still catches up and loses no acknowledged write', async () => {
  const result = await runScenario(104, { replicas: 4, steps: 500, faults: parseFaults('drop,torn'), dropProbability: 0.1, fsyncMsMax: 3 }, (plan) =>
    every(5, plan.healAtMs, 25).flatMap((t): FaultAction[] => [
      { kind: 'crash', atMs: t, node: 1, torn: true },
      { kind: 'restart', atMs: t + 10, node: 1 },
    ]),
  );
  expect(result.faultsInjected.restart).toBeGreaterThan(50);
  expect(result.convergence).toBeDefined();
});
