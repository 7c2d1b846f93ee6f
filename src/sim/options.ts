/**
 * Simulation options and the swarm step: one seed draws every setting (which
 * faults are on, at what rates, the workload's shape), TigerBeetle-VOPR style,
 * and explicit overrides win.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { Prng } from './prng.js';

/** Every fault the simulator can inject, by name (the `--faults` list). */
export const FAULT_NAMES = [
  'drop',
  'duplicate',
  'reorder',
  'slow',
  'partition',
  'oneway',
  'isolate',
  'rolling',
  'crash',
  'torn',
  'bitflip',
  'pause',
  'skew',
  'jump',
  'replay',
  'backup',
  'wipe',
  'compact',
] as const;

/** One fault name. */
export type FaultName = (typeof FAULT_NAMES)[number];

/** Deliberate bugs, to prove the checkers catch them. */
export type SimBug = 'ack-before-sync' | 'no-repair' | 'arrival-order';

/** Everything that shapes one run. Same options + same seed = same trace. */
export interface SimOptions {
  readonly seed: number;
  readonly replicas: number;
  /** Workload steps (each a set, a delete or a batch on one replica). */
  readonly steps: number;
  /** Mean virtual time between workload steps, ms. */
  readonly stepIntervalMs: number;
  readonly keySpace: number;
  readonly keyDistribution: 'uniform' | 'zipf';
  readonly deleteProbability: number;
  readonly batchProbability: number;
  /** Largest workload batch, in ops. */
  readonly batchOpsMax: number;
  /** Faults switched on. */
  readonly faults: readonly FaultName[];
  /** Probability per workload step that a fault action is scheduled (split among the faults on). */
  readonly faultRate: number;
  readonly dropProbability: number;
  readonly duplicateProbability: number;
  readonly delayMsMin: number;
  readonly delayMsMax: number;
  readonly slowTailProbability: number;
  readonly slowTailMsMax: number;
  /** Largest initial clock skew per node, ms (either direction). */
  readonly clockSkewMsMax: number;
  /** Largest clock jump, ms (either direction). */
  readonly clockJumpMsMax: number;
  /** Longest a crashed/paused/partitioned state lasts before its own heal, ms. */
  readonly faultDurationMsMax: number;
  /** Virtual time to fsync an append, ms (upper bound; drawn per append). */
  readonly fsyncMsMax: number;
  readonly sessionBatchOpsMax: number;
  readonly sessionBatchBytesMax: number;
  readonly antiEntropyIntervalMs: number;
  /** Liveness: after the final heal, convergence must come within this much virtual time. */
  readonly livenessBudgetMs: number;
  /** How a device restored from a backup comes back: under a new id (safe) or its old id (raw: reuse must be detected). */
  readonly restoreMode: 'safe' | 'raw';
  /** Whether a wiped device is re-created under a new id or its old one (reuse must then be detected). */
  readonly wipeMode: 'new-id' | 'same-id';
  /**
   * Every replica's `maxDriftMs`. By default {@link driftBoundMs}: wide enough that no skew or jump the run draws
   * makes an honest replica refuse another's ops (those faults model clocks that are wrong within tolerance).
   */
  readonly maxDriftMs?: number;
  readonly bug?: SimBug;
}

/** Options a caller may fix; the swarm draws the rest. */
export type SimOverrides = Partial<Omit<SimOptions, 'seed'>>;

/** Draws the options of `seed`, swarm-style, then applies `overrides`. */
export function swarmOptions(seed: number, overrides: SimOverrides = {}): SimOptions {
  const prng = new Prng(seed, 'swarm');
  const faults = FAULT_NAMES.filter(() => prng.chance(0.5));
  const delayMsMin = prng.range(0, 5);
  const drawn: SimOptions = {
    seed,
    replicas: prng.range(2, 8),
    steps: 1_000,
    stepIntervalMs: prng.range(1, 20),
    keySpace: prng.pick([4, 16, 64, 256, 1024]),
    keyDistribution: prng.chance(0.5) ? 'zipf' : 'uniform',
    deleteProbability: prng.float() * 0.3,
    batchProbability: prng.float() * 0.3,
    batchOpsMax: prng.range(2, 8),
    faults,
    faultRate: 0.005 + prng.float() * 0.03,
    dropProbability: prng.float() * 0.3,
    duplicateProbability: prng.float() * 0.2,
    delayMsMin,
    delayMsMax: delayMsMin + prng.range(1, 50),
    slowTailProbability: prng.float() * 0.05,
    slowTailMsMax: prng.range(200, 5_000),
    clockSkewMsMax: prng.pick([0, 50, 1_000, 60_000]),
    clockJumpMsMax: prng.pick([100, 10_000, 3_600_000]),
    faultDurationMsMax: prng.range(100, 5_000),
    fsyncMsMax: prng.range(0, 5),
    sessionBatchOpsMax: prng.pick([8, 64, 1_000]),
    sessionBatchBytesMax: prng.pick([2_048, 65_536]),
    antiEntropyIntervalMs: prng.pick([100, 500, 2_000]),
    livenessBudgetMs: 60_000,
    restoreMode: 'safe',
    wipeMode: 'new-id',
  };
  const options = { ...drawn, ...overrides } as SimOptions;
  validateOptions(options);
  return options;
}

/** Parses a `--faults` list: `all`, `none`, or comma-separated names. */
export function parseFaults(list: string): FaultName[] {
  if (list === 'all') return [...FAULT_NAMES];
  if (list === 'none' || list === '') return [];
  const names = list.split(',').map((name) => name.trim());
  for (const name of names) if (!(FAULT_NAMES as readonly string[]).includes(name)) throw new InvalidArgumentError(`unknown fault '${name}'; known: ${FAULT_NAMES.join(', ')}`);
  return names as FaultName[];
}

/** Checks ranges. @throws InvalidArgumentError */
export function validateOptions(options: SimOptions): void {
  const ints: (keyof SimOptions)[] = ['replicas', 'steps', 'keySpace', 'batchOpsMax', 'sessionBatchOpsMax', 'sessionBatchBytesMax', 'livenessBudgetMs'];
  for (const name of ints) {
    const value = options[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (name === 'steps' ? 0 : 1)) throw new InvalidArgumentError(`${name} must be a positive integer`);
  }
  if (options.replicas < 2 || options.replicas > 1_000) throw new InvalidArgumentError('replicas must be from 2 to 1000');
  const probabilities: (keyof SimOptions)[] = ['deleteProbability', 'batchProbability', 'faultRate', 'dropProbability', 'duplicateProbability', 'slowTailProbability'];
  for (const name of probabilities) {
    const value = options[name];
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new InvalidArgumentError(`${name} must be a probability in [0, 1]`);
  }
  if (!(options.delayMsMax >= options.delayMsMin && options.delayMsMin >= 0)) throw new InvalidArgumentError('delayMsMin..delayMsMax must be a valid range');
}

/** The largest offset from virtual time an honest node's clock reaches: its initial skew plus its jumps, clamped. */
export function clockErrorMsMax(options: SimOptions): number {
  return options.clockSkewMsMax + options.clockJumpMsMax;
}

/**
 * The replicas' drift bound: two honest clocks differ by at most twice {@link clockErrorMsMax}, and an HLC runs ahead
 * of its own clock by no more than that either, so nothing an honest replica writes is ever refused; 5 minutes on top.
 */
export function driftBoundMs(options: SimOptions): number {
  return options.maxDriftMs ?? 2 * clockErrorMsMax(options) + 300_000;
}

/** True when fault `name` is on. */
export function faultOn(options: SimOptions, name: FaultName): boolean {
  return options.faults.includes(name);
}
