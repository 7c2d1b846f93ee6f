/**
 * A 50-replica mesh: fifty replicas in one room, with drops, a slow tail and
 * a partition, converge after the heal.
 */
import { expect, it } from 'vitest';
import { parseFaults, runScenario } from './harness.js';

it('a 50-replica mesh converges', async () => {
  const result = await runScenario(108, { replicas: 50, steps: 300, stepIntervalMs: 5, faults: parseFaults('drop,slow'), dropProbability: 0.05, slowTailProbability: 0.01, antiEntropyIntervalMs: 500 }, () => [
    { kind: 'partition', atMs: 100, shape: 'split', groupA: Array.from({ length: 25 }, (_, i) => i) },
    { kind: 'heal', atMs: 600 },
  ]);
  expect(result.convergence).toBeDefined();
  expect(result.writesAcked).toBeGreaterThan(250);
});
