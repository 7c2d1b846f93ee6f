/**
 * A replica offline for long returns after the others compacted: replica 2 is
 * down for the whole write phase while the others compact down to nothing
 * retained; when it comes back it is behind their horizon and must converge
 * from the multi-part compaction summary (snapshot frames).
 */
import { expect, it } from 'vitest';
import type { FaultAction } from '../src/sim/plan.js';
import { MessageType } from '../src/sync/messages.js';
import { every, runScenario } from './harness.js';

it('a replica offline across compaction catches up from the horizon summary', async () => {
  const result = await runScenario(
    107,
    { replicas: 3, steps: 800, keySpace: 64, deleteProbability: 0.2, sessionBatchOpsMax: 8 },
    (plan) => [
      { kind: 'crash', atMs: 0.5, node: 2, torn: false },
      ...every(100, plan.healAtMs, 100).flatMap((t): FaultAction[] => [
        { kind: 'compact', atMs: t, node: 0, retainOps: 0 },
        { kind: 'compact', atMs: t + 1, node: 1, retainOps: 0 },
      ]),
    ],
    { keepTrace: true },
  );
  const snapshotFramesToReturner = (result.trace ?? []).filter(({ event: e }) => e.kind === 'deliver' && !e.replayed && e.from < 2 && e.to === 2 && e.frameType === MessageType.snapshot).length;
  expect(snapshotFramesToReturner).toBeGreaterThan(1);
  expect(result.convergence).toBeDefined();
});
