/**
 * Split brain: four replicas split two against two for the whole write phase,
 * both halves writing the same hot keys; after the heal they must agree on the
 * later writer of every key.
 */
import { expect, it } from 'vitest';
import { runScenario } from './harness.js';

it('split brain: two halves write the same keys apart, then converge after the heal', async () => {
  const result = await runScenario(101, { replicas: 4, steps: 600, keySpace: 8, keyDistribution: 'zipf' }, () => [{ kind: 'partition', atMs: 0, shape: 'split', groupA: [0, 1] }]);
  expect(result.faultsInjected.partition).toBe(1);
  expect(result.network.framesDropped).toBeGreaterThan(100);
  expect(result.convergence).toBeDefined();
});
