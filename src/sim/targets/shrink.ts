/**
 * Shrinking a failing target run: the simulator's delta debugging (`shrinkSchedule`)
 * with `runTarget` as the trial run. Every trial is deterministic, so the result replays exactly.
 */
import type { SimOptions } from '../options.js';
import type { Plan } from '../plan.js';
import { type ShrinkResult, shrinkSchedule } from '../shrink.js';
import { runTarget } from './run-target.js';
import type { CrdtTarget } from './target.js';

/** Shrinks `plan`, which fails `checker` for `target` under `options`, within `runsMax` trial runs. */
export function shrinkTargetPlan(target: CrdtTarget, options: SimOptions, plan: Plan, checker: string, limits: { readonly runsMax: number }): Promise<ShrinkResult> {
  return shrinkSchedule(plan, checker, limits, (candidate) => runTarget(target, options, { plan: candidate }));
}
