/**
 * Duplicate storm: every frame is delivered twice, links reorder, and batches
 * of old frames are replayed every 20 ms, long after they were sent. Merge is
 * idempotent and the protocol ignores what it already has.
 */
import { expect, it } from 'vitest';
import type { FaultAction } from '../src/sim/plan.js';
import { every, parseFaults, runScenario } from './harness.js';

it('duplicate storm: every frame twice plus old frames replayed late', async () => {
  const result = await runScenario(106, { replicas: 4, steps: 400, faults: parseFaults('duplicate,reorder,replay'), duplicateProbability: 1, delayMsMax: 30 }, (plan) =>
    every(10, plan.healAtMs, 20).map((t): FaultAction => ({ kind: 'replay', atMs: t, count: 10 })),
  );
  expect(result.network.framesDuplicated).toBeGreaterThan(1_000);
  expect(result.network.framesReplayed).toBeGreaterThan(100);
  expect(result.convergence).toBeDefined();
});
