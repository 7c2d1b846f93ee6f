/**
 * Bit flips on disk: a synced record is damaged, the device crashes and
 * restarts; recovery detects it by checksum and never applies it, the device
 * comes back under a new id with the valid prefix, and the replicas converge.
 */
import { expect, it } from 'vitest';
import type { FaultAction } from '../src/sim/plan.js';
import { every, runScenario } from './harness.js';

it('bit flips are detected on recovery, never applied, and the replicas converge', async () => {
  const result = await runScenario(111, { replicas: 3, steps: 500 }, (plan) =>
    every(100, plan.healAtMs, 150).flatMap((t, i): FaultAction[] => [
      { kind: 'bitflip', atMs: t, node: i % 3 },
      { kind: 'crash', atMs: t + 1, node: i % 3, torn: false },
      { kind: 'restart', atMs: t + 20, node: i % 3 },
    ]),
  );
  expect(result.rejected.recordsDropped).toBeGreaterThan(0);
  expect(result.convergence).toBeDefined();
});
