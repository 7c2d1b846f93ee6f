/**
 * The end-of-run checkers of Tidelog's harness, in order. When the oracle saw
 * one op id used for two different ops (a raw stale restore, a same-id wipe),
 * convergence cannot be expected: the run must instead have detected and
 * reported the reuse, and the checkers that do not assume convergence
 * (acknowledged writes, causality) still run.
 */
import { checkLiveness } from '../../liveness.js';
import type { Violation } from '../../result.js';
import { checkAckedWrites } from './acked-writes.js';
import { checkCausalLww } from './causal-lww.js';
import type { CheckContext, Finding } from './context.js';
import { checkConvergence } from './convergence.js';
import { checkReferenceModel } from './reference-model.js';
import { checkSyncStatus } from './sync-status.js';

export type { CheckContext } from './context.js';
export { checkEqualVectors, EqualVectorsCheck } from './equal-vectors.js';

/** [name, checker, needs convergence to be meaningful]. */
const CHECKERS: readonly [string, (context: CheckContext) => Finding[], boolean][] = [
  ['convergence', checkConvergence, true],
  ['acked-writes', checkAckedWrites, false],
  ['causal-lww', checkCausalLww, false],
  ['reference-model', checkReferenceModel, true],
  ['liveness', (context) => checkLiveness({ livenessBudgetMs: context.options.livenessBudgetMs, healAtMs: context.healAtMs, convergedAtMs: context.convergedAtMs }), true],
  ['sync-status', checkSyncStatus, true],
];

/** True when an op id was reused after a fault that re-created a device under an old id, and a session reported it. */
function reuseReported(context: CheckContext): boolean {
  const history = context.history;
  return history.reusedIds.length > 0 && history.reuseExpected && history.conflictsDetected > 0;
}

/** The checks that ran (or run) on this context: equal-vectors and the end-of-run checkers; under reported reuse, the ones that hold without convergence. */
export function checksRun(context: CheckContext): string[] {
  const reuse = reuseReported(context);
  return ['id-reuse', ...(reuse ? [] : ['equal-vectors']), ...CHECKERS.filter(([, , needsConvergence]) => !(reuse && needsConvergence)).map(([name]) => name)];
}

/** Runs every end-of-run checker; returns the violations found. */
export function runCheckers(context: CheckContext): Violation[] {
  const history = context.history;
  // Reuse is only legitimate after a fault that re-created a device under an old id; then it must be reported.
  const reuse = reuseReported(context);
  const violations: Violation[] = [];
  if (history.reusedIds.length > 0 && !reuse) {
    const why = history.reuseExpected ? 'and no sync session reported it' : 'although no fault re-created a device under an old id (an acknowledged write was lost?)';
    const opId = history.reusedIds[0] as string;
    violations.push({ checker: 'id-reuse', message: `op ids ${history.reusedIds.slice(0, 3).join(', ')} were used for different ops ${why}`, atMs: context.nowMs, subject: { opId } });
  }
  for (const [checker, check, needsConvergence] of CHECKERS) {
    if (reuse && needsConvergence) continue;
    for (const finding of check(context)) violations.push({ checker, ...finding, atMs: context.nowMs });
  }
  return violations;
}
