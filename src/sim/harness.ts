/**
 * The interface every way of running the simulator goes through (the CLI,
 * sweeps, shrinking, the determinism check, and the library API to come): a
 * harness is a system under test plus the run that drives it on the kernel
 * ({@link SimRun}). Tidelog's own harness (`tidelog/harness.ts`) drives real
 * replicas and sessions; the target harness (`targets/harness.ts`) drives any
 * CRDT through a {@link CrdtTarget} adapter a user can write.
 */
import type { FaultName, SimOptions, SimOverrides } from './options.js';
import type { RunHooks, RunResult } from './result.js';

/** A system the simulator can run, check and shrink. */
export interface Harness<R extends RunResult = RunResult> {
  /** What summaries name: `tidelog`, or a target's name. */
  readonly name: string;
  /**
   * The `--target` value that selects this harness again in a replay command (a built-in name or a module
   * path); undefined for Tidelog's own harness, which is the default.
   */
  readonly spec: string | undefined;
  /** The faults this harness can inject (`--faults` names); others in an options' list are not injected. */
  readonly faults: readonly FaultName[];
  /** The options of `seed`: the swarm's draw with `overrides` applied, restricted to {@link faults}. */
  options(seed: number, overrides?: SimOverrides): SimOptions;
  /** Runs one schedule (the seed's, or `hooks.plan`). */
  run(options: SimOptions, hooks?: RunHooks): Promise<R>;
  /** Lines about what this harness's run produced beyond what every run reports (ops, reuse, rejected input...). */
  describe(result: R): readonly string[];
}
