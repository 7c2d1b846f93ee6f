/**
 * Shrinking a failing target run: the same delta debugging as `shrinkPlan`
 * (cut chunks of actions, halving the chunk size down to single actions, keep
 * every cut after which the same check still fails), with `runTarget` as the
 * trial run. Every trial is deterministic, so the result replays exactly.
 */
import type { Violation } from '../history.js';
import type { SimOptions } from '../options.js';
import type { Action, Plan } from '../plan.js';
import type { ShrinkResult } from '../shrink.js';
import { runTarget } from './run-target.js';
import type { CrdtTarget } from './target.js';

/** Shrinks `plan`, which fails `checker` for `target` under `options`, within `runsMax` trial runs. */
export async function shrinkTargetPlan(target: CrdtTarget, options: SimOptions, plan: Plan, checker: string, limits: { readonly runsMax: number }): Promise<ShrinkResult> {
  let actions: readonly Action[] = plan.actions;
  let violations: readonly Violation[] = [];
  let runs = 0;
  const fails = async (candidate: readonly Action[]): Promise<readonly Violation[] | undefined> => {
    runs += 1;
    const result = await runTarget(target, options, { plan: { actions: candidate, healAtMs: plan.healAtMs } });
    return result.violations.some((v) => v.checker === checker) ? result.violations : undefined;
  };
  let chunk = Math.max(1, Math.ceil(actions.length / 2));
  while (runs < limits.runsMax) {
    let removedAny = false;
    for (let start = 0; start < actions.length && runs < limits.runsMax; ) {
      const candidate = actions.slice(0, start).concat(actions.slice(start + chunk));
      const found = await fails(candidate);
      if (found === undefined) start += chunk;
      else {
        actions = candidate;
        violations = found;
        removedAny = true;
      }
    }
    if (chunk === 1 && !removedAny) break;
    chunk = Math.max(1, Math.ceil(chunk / 2));
  }
  if (violations.length === 0) violations = (await fails(actions)) ?? [];
  return { plan: { actions, healAtMs: plan.healAtMs }, violations, runs, actionsBefore: plan.actions.length };
}
