/**
 * Flapping partition: the partition changes shape every 15 ms (split, one-way,
 * one node isolated) for the whole run, healing briefly in between.
 */
import { expect, it } from 'vitest';
import type { FaultAction } from '../src/sim/plan.js';
import { every, runScenario } from './harness.js';

it('flapping partition: shapes change every 15 ms, replicas still converge', async () => {
  const shapes = ['split', 'oneway', 'isolate'] as const;
  const result = await runScenario(102, { replicas: 5, steps: 500 }, (plan) =>
    every(0, plan.healAtMs, 15).flatMap((t, i): FaultAction[] => [
      { kind: 'partition', atMs: t, shape: shapes[i % 3] as (typeof shapes)[number], groupA: [i % 5, (i + 2) % 5] },
      ...(i % 4 === 3 ? [{ kind: 'heal', atMs: t + 5 } as const] : []),
    ]),
  );
  expect(result.faultsInjected.partition).toBeGreaterThan(50);
  expect(result.convergence).toBeDefined();
});
