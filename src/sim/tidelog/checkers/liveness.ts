/**
 * Checker 5, liveness: after the final heal, the replicas converge within the
 * budget of virtual time (`livenessBudgetMs`).
 */
import type { CheckContext, Finding } from './context.js';

/** Finds a run that did not converge in time. */
export function checkLiveness(context: CheckContext): Finding[] {
  if (context.convergedAtMs === undefined) return [`no convergence within ${context.options.livenessBudgetMs}ms of virtual time after the final heal at ${context.healAtMs}ms`];
  const tookMs = context.convergedAtMs - context.healAtMs;
  return tookMs <= context.options.livenessBudgetMs ? [] : [`convergence took ${tookMs}ms, over the ${context.options.livenessBudgetMs}ms budget`];
}
