/**
 * A device wiped and re-created. Under a new id it simply rejoins. Under its
 * old id it either learns its old ops back before writing (the core then
 * bumps its sequence past them) or, if it writes first, the reuse is detected.
 */
import { expect, it } from 'vitest';
import type { FaultAction } from '../src/sim/plan.js';
import { parseFaults, runScenario } from './harness.js';

const faults = (): FaultAction[] => [{ kind: 'wipe', atMs: 300, node: 1 }];

it('wipe and re-create under a new id converges', async () => {
  const result = await runScenario(110, { replicas: 3, steps: 400, wipeMode: 'new-id' }, faults);
  expect(result.idReuse.reused).toBe(0);
  expect(result.convergence).toBeDefined();
});

it('wipe and re-create under the old id: any reuse is detected and reported', async () => {
  const result = await runScenario(110, { replicas: 3, steps: 400, wipeMode: 'same-id', faults: parseFaults('wipe') }, faults);
  expect(result.idReuse.reused === 0 || result.idReuse.detected > 0).toBe(true);
  expect(result.idReuse.reused).toBeGreaterThan(0);
});

it('wipe and re-create under the old id after every peer compacted its ops: the reuse is still detected', async () => {
  // The peers fold everything they hold (node 1's ops included) into their summaries just before the wipe,
  // so no peer holds one of node 1's old ops one by one: only the horizon check can see the reuse.
  const compactedThenWiped = (): FaultAction[] => [
    { kind: 'compact', atMs: 290, node: 0, retainOps: 0 },
    { kind: 'compact', atMs: 290, node: 2, retainOps: 0 },
    { kind: 'wipe', atMs: 300, node: 1 },
  ];
  const result = await runScenario(110, { replicas: 3, steps: 400, wipeMode: 'same-id', faults: parseFaults('wipe,compact') }, compactedThenWiped);
  expect(result.idReuse.reused).toBeGreaterThan(0);
  expect(result.idReuse.detected).toBeGreaterThan(0);
});
