/**
 * Tidelog's own harness as a {@link Harness}: real replicas and sessions on
 * simulated disks, every fault, the oracle's checkers. The CLI's default.
 */
import type { Harness } from '../harness.js';
import { FAULT_NAMES, type SimOptions, swarmOptions } from '../options.js';
import type { Plan } from '../plan.js';
import { type ShrinkLimits, type ShrinkResult, shrinkRun } from '../shrink.js';
import { runSimulation, type SimResult } from './simulator.js';

/** Tidelog's harness. */
export const tidelogHarness: Harness<SimResult> = {
  name: 'tidelog',
  spec: undefined,
  faults: FAULT_NAMES,
  options: swarmOptions,
  run: runSimulation,
  describe(result) {
    return [
      `ops committed ${result.opsCommitted}; corrupt records dropped ${result.rejected.recordsDropped}, malformed frames ${result.rejected.framesMalformed}; op id reuse ${result.idReuse.reused} (detected ${result.idReuse.detected})`,
    ];
  },
};

/** Shrinks a failing schedule of Tidelog's harness while `checker` still fails. */
export function shrinkPlan(options: SimOptions, plan: Plan, checker: string, limits: ShrinkLimits): Promise<ShrinkResult> {
  return shrinkRun(tidelogHarness, options, plan, checker, limits);
}
