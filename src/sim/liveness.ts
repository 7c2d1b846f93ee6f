/**
 * The liveness check, the same for every harness: after the final heal, the
 * replicas converge within the budget of virtual time (`livenessBudgetMs`).
 */
import type { Finding } from './result.js';

/** The times liveness is judged on. */
export interface LivenessInput {
  readonly livenessBudgetMs: number;
  readonly healAtMs: number;
  /** Virtual time every replica first agreed after the final heal; undefined if they never did. */
  readonly convergedAtMs: number | undefined;
}

/** Finds a run that did not converge in time. */
export function checkLiveness(input: LivenessInput): Finding[] {
  if (input.convergedAtMs === undefined) return [{ message: `no convergence within ${input.livenessBudgetMs}ms of virtual time after the final heal at ${input.healAtMs}ms` }];
  const tookMs = input.convergedAtMs - input.healAtMs;
  return tookMs <= input.livenessBudgetMs ? [] : [{ message: `convergence took ${tookMs}ms, over the ${input.livenessBudgetMs}ms budget` }];
}
