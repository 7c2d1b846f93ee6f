/**
 * The target harness as a {@link Harness}: any {@link CrdtTarget} adapter,
 * driven through the faults a target can take, held to the checks of its
 * semantics.
 */
import type { Harness } from '../harness.js';
import type { Plan } from '../plan.js';
import type { SimOptions } from '../options.js';
import { type ShrinkLimits, type ShrinkResult, shrinkRun } from '../shrink.js';
import { runTarget, TARGET_FAULTS, type TargetRunResult, targetOptions } from './run-target.js';
import type { CrdtTarget } from './target.js';

/** The harness that runs `target`; `spec` is what `--target` names it by (a built-in name or a module path). */
export function targetHarness(target: CrdtTarget, spec: string = target.name): Harness<TargetRunResult> {
  return {
    name: target.name,
    spec,
    faults: TARGET_FAULTS,
    options: targetOptions,
    run: (options, hooks) => runTarget(target, options, hooks),
    describe: (result) => [`writes issued ${result.writesIssued}, acked ${result.writesAcked} (semantics ${target.semantics})`],
  };
}

/** Shrinks `plan`, which fails `checker` for `target` under `options`. */
export function shrinkTargetPlan(target: CrdtTarget, options: SimOptions, plan: Plan, checker: string, limits: ShrinkLimits): Promise<ShrinkResult> {
  return shrinkRun(targetHarness(target), options, plan, checker, limits);
}
