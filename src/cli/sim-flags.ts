/** One flag per `SimOptions` field: each seed draws every field; a flag fixes one. */
import type { FlagSpec } from './args.js';

const RUN_GROUP = 'Run options (each seed draws the rest, swarm-style)';

/** A flag that fixes one `SimOptions` field. */
export interface OverrideFlag extends FlagSpec {
  /** The `SimOptions` field it sets. */
  readonly option: string;
}

const int = (name: string, option: string, help: string, min = 1, value = 'N'): OverrideFlag => ({ name, option, kind: 'int', min, value, help, group: RUN_GROUP });
const num = (name: string, option: string, help: string, value = 'ms'): OverrideFlag => ({ name, option, kind: 'number', min: 0, value, help, group: RUN_GROUP });
const probability = (name: string, option: string, help: string): OverrideFlag => ({ name, option, kind: 'number', min: 0, max: 1, value: 'p', help, group: RUN_GROUP });
const choice = (name: string, option: string, choices: readonly string[], help: string): OverrideFlag => ({ name, option, kind: 'choice', choices, help, group: RUN_GROUP });

/** The planted bugs `--bug` plants (each must be caught by a checker). */
export const SIM_BUGS = ['ack-before-sync', 'no-repair', 'arrival-order'] as const;

/** One flag per `SimOptions` field but `seed` and `faults` (a test checks none is missing). */
export const OVERRIDE_FLAGS: readonly OverrideFlag[] = [
  int('replicas', 'replicas', 'replicas, 2 to 1000'),
  int('steps', 'steps', 'workload steps (a set, delete or batch each)', 0),
  num('step-interval-ms', 'stepIntervalMs', 'mean virtual time between steps'),
  int('keys', 'keySpace', 'distinct keys written'),
  choice('key-distribution', 'keyDistribution', ['uniform', 'zipf'], 'how keys are picked'),
  probability('delete-probability', 'deleteProbability', 'chance a step is a delete'),
  probability('batch-probability', 'batchProbability', 'chance a step is a batch'),
  int('batch-ops-max', 'batchOpsMax', 'largest batch, in ops'),
  probability('fault-rate', 'faultRate', 'chance per step that a fault is scheduled'),
  probability('drop-probability', 'dropProbability', 'chance a delivery is dropped (drop)'),
  probability('duplicate-probability', 'duplicateProbability', 'chance a delivery is doubled (duplicate)'),
  num('delay-ms-min', 'delayMsMin', 'shortest network delay'),
  num('delay-ms-max', 'delayMsMax', 'longest network delay'),
  probability('slow-tail-probability', 'slowTailProbability', 'chance of a slow delivery (slow)'),
  num('slow-tail-ms-max', 'slowTailMsMax', 'longest slow delivery'),
  num('clock-skew-ms-max', 'clockSkewMsMax', 'largest initial clock skew per replica'),
  num('clock-jump-ms-max', 'clockJumpMsMax', 'largest clock jump (jump)'),
  num('fault-duration-ms-max', 'faultDurationMsMax', 'longest a crash, pause or partition lasts'),
  num('fsync-ms-max', 'fsyncMsMax', 'longest virtual fsync'),
  int('session-batch-ops-max', 'sessionBatchOpsMax', 'ops per sync frame at most'),
  int('session-batch-bytes-max', 'sessionBatchBytesMax', 'bytes per sync frame at most', 1, 'bytes'),
  num('anti-entropy-interval-ms', 'antiEntropyIntervalMs', 'time between anti-entropy rounds'),
  int('liveness-budget-ms', 'livenessBudgetMs', 'convergence must come this soon after the final heal', 1, 'ms'),
  choice('restore-mode', 'restoreMode', ['safe', 'raw'], 'a restored backup comes back under a new id (safe) or its old one (raw)'),
  choice('wipe-mode', 'wipeMode', ['new-id', 'same-id'], 'id of a wiped device when it comes back'),
  choice('bug', 'bug', SIM_BUGS, 'plant a known bug (the checkers must catch it)'),
];
