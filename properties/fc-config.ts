/**
 * Shared fast-check settings for the core properties.
 *
 * A failing property prints fast-check's report: the counterexample, the seed
 * and the shrink path. To replay exactly that case:
 *   FC_SEED=<seed> FC_PATH=<path> npx vitest run properties/<file>.prop.ts
 * FC_SEED alone reruns the whole search from that seed; FC_RUNS overrides numRuns
 * (e.g. FC_RUNS=5000 for a longer local soak).
 */
import type { Parameters } from 'fast-check';

/** The assert parameters for a property, honoring FC_SEED / FC_PATH / FC_RUNS. */
export function fcParams<T>(numRuns: number): Parameters<T> {
  const seed = process.env.FC_SEED;
  const path = process.env.FC_PATH;
  const runs = process.env.FC_RUNS;
  return {
    numRuns: runs !== undefined ? Number(runs) : numRuns,
    ...(seed !== undefined ? { seed: Number(seed) } : {}),
    ...(path !== undefined ? { path } : {}),
  };
}
