/**
 * Shrinking, for any harness: cuts actions (faults and writes) out of a
 * failing schedule while the same checker still fails, halving the cut size
 * down to single actions (delta debugging). Every trial is a full
 * deterministic run of the smaller schedule, so the result replays exactly too.
 */
import type { Harness } from './harness.js';
import type { SimOptions } from './options.js';
import type { Action, Plan } from './plan.js';
import type { Violation } from './result.js';

/** The smallest failing schedule found. */
export interface ShrinkResult {
  readonly plan: Plan;
  readonly violations: readonly Violation[];
  /** Trial runs made. */
  readonly runs: number;
  /** Actions in the original schedule. */
  readonly actionsBefore: number;
}

/** Limits of a shrink: trial runs at most, and a progress callback. */
export interface ShrinkLimits {
  readonly runsMax: number;
  readonly onTrial?: (runs: number, actions: number) => void;
}

/** Runs one trial schedule and returns what the checkers found. */
export type TrialRun = (plan: Plan) => Promise<{ readonly violations: readonly Violation[] }>;

/** Shrinks `plan`, which fails `checker` for `harness` under `options`, within `limits.runsMax` trial runs. */
export function shrinkRun(harness: Harness, options: SimOptions, plan: Plan, checker: string, limits: ShrinkLimits): Promise<ShrinkResult> {
  return shrinkSchedule(plan, checker, limits, (candidate) => harness.run(options, { plan: candidate }));
}

/**
 * The delta debugging itself, over any trial run: cuts chunks of actions, halving
 * the chunk size down to single actions, and keeps every cut after which
 * `checker` still fails.
 */
export async function shrinkSchedule(plan: Plan, checker: string, limits: ShrinkLimits, trial: TrialRun): Promise<ShrinkResult> {
  let actions: readonly Action[] = plan.actions;
  let violations: readonly Violation[] = [];
  let runs = 0;
  const fails = async (candidate: readonly Action[]): Promise<readonly Violation[] | undefined> => {
    runs += 1;
    const result = await trial({ actions: candidate, healAtMs: plan.healAtMs });
    limits.onTrial?.(runs, candidate.length);
    return result.violations.some((v) => v.checker === checker) ? result.violations : undefined;
  };
  let chunk = Math.max(1, Math.ceil(actions.length / 2));
  while (runs < limits.runsMax) {
    let removedAny = false;
    for (let start = 0; start < actions.length && runs < limits.runsMax; ) {
      const candidate = actions.slice(0, start).concat(actions.slice(start + chunk));
      const found = await fails(candidate);
      if (found !== undefined) {
        actions = candidate;
        violations = found;
        removedAny = true;
      } else {
        start += chunk;
      }
    }
    if (chunk === 1 && !removedAny) break;
    if (chunk > 1) chunk = Math.ceil(chunk / 2);
  }
  if (violations.length === 0) violations = (await fails(actions)) ?? [];
  return { plan: { actions, healAtMs: plan.healAtMs }, violations, runs, actionsBefore: plan.actions.length };
}
