/**
 * Crash during a batch: every write is an atomic batch and fsync takes up to
 * 5 ms, so crashes land between a batch's write and its sync; the torn record
 * is detected on restart and dropped whole: no batch is ever half applied, and
 * every batch acknowledged before the crash survives.
 */
import { expect, it } from 'vitest';
import type { FaultAction } from '../src/sim/plan.js';
import { every, runScenario } from './harness.js';

it('crash during a batch: torn batches vanish whole, acknowledged batches survive', async () => {
  const result = await runScenario(103, { replicas: 3, steps: 500, stepIntervalMs: 10, batchProbability: 1, batchOpsMax: 8, fsyncMsMax: 5 }, (plan) =>
    every(20, plan.healAtMs, 60).flatMap((t, i): FaultAction[] => [
      { kind: 'crash', atMs: t, node: i % 3, torn: true },
      { kind: 'restart', atMs: t + 15, node: i % 3 },
    ]),
  );
  expect(result.faultsInjected.crash).toBeGreaterThan(20);
  expect(result.rejected.recordsDropped).toBeGreaterThan(0);
  expect(result.convergence).toBeDefined();
});
