/**
 * `tidelog/sim`: the deterministic simulator as a library, for testing any
 * CRDT or sync engine from its own test suite. Write an adapter (a
 * {@link CrdtTarget}: open, write, read, summary, payloadFor, apply), then:
 *
 * ```ts
 * import { expectConverges } from 'tidelog/sim';
 * it('converges under faults', () => expectConverges(myTarget, { runs: 20, steps: 300 }));
 * ```
 *
 * {@link simulate} runs one seed and {@link sweep} many, both returning
 * structured results (violations with their checker, seed and replay command,
 * the shrunk failing schedule, convergence figures); {@link expectConverges}
 * throws a {@link SimulationFailedError} naming the seeds, the findings and the
 * shrunk schedule, so a test runner shows them. See docs/sim-targets.md.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { SimulationFailedError } from './errors.js';
import type { Harness } from './harness.js';
import type { SimOptions, SimOverrides } from './options.js';
import { type Action, describeAction } from './plan.js';
import { overrideFlags, percentiles, replayCommand } from './report.js';
import type { RunResult, Subject } from './result.js';
import { shrinkRun } from './shrink.js';
import { BUILTIN_TARGETS } from './targets/index.js';
import { targetHarness } from './targets/harness.js';
import { type CrdtTarget, isCrdtTarget } from './targets/target.js';
import { tidelogHarness } from './tidelog/harness.js';

export { SimulationFailedError } from './errors.js';
export type { Harness } from './harness.js';
export { FAULT_NAMES, type FaultName, type SimOptions, type SimOverrides } from './options.js';
export type { Action, FaultAction, Plan, WriteAction } from './plan.js';
export type { ConvergenceMeasure } from './convergence-watch.js';
export type { NetworkCounters } from './network.js';
export { automergeTarget, loroTarget, TARGET_FAULTS, targetHarness, tidelogTarget, yjsTarget } from './targets/index.js';
export type { CrdtTarget, DurableLog, TargetOpenOptions, TargetReplica, TargetSemantics, TargetWrite, WriteReceipt } from './targets/target.js';
export { TargetUnavailableError } from './targets/errors.js';
export { tidelogHarness } from './tidelog/harness.js';

/**
 * What to simulate: an adapter, a harness, or a name: `'tidelog'` (Tidelog's own harness: real replicas and
 * sync sessions, every fault, all its checkers) or a built-in target (`'yjs'`, `'automerge'`, `'loro'`,
 * `'tidelog-adapter'`).
 */
export type SimTarget = CrdtTarget | Harness | string;

/** Options of {@link simulate}: any simulator option (the seed's swarm draws the rest), plus what the API adds. */
export interface SimulateOptions extends SimOverrides {
  /** The seed (default 1): with the same options, the same seed gives the same run, event for event. */
  readonly seed?: number;
  /**
   * The module that exports the adapter, as `tidelog sim --target` takes it (`./test/my-crdt.ts`,
   * `./adapters.js#lamport`): replay commands then name it. Without it, a replay is given as a `simulate` call.
   */
  readonly module?: string;
  /** Shrink a failing schedule: `false`, `true` (up to 200 trial runs, the default) or the trial runs allowed. */
  readonly shrink?: boolean | number;
}

/** Options of {@link sweep} and {@link expectConverges}: {@link SimulateOptions} and how many seeds. */
export interface SweepOptions extends SimulateOptions {
  /** Seeds to run: `seed`, `seed + 1`, ... (default 20). */
  readonly runs?: number;
  /** Stop after this many failing seeds (default: run them all). Only the first failure is shrunk. */
  readonly failuresMax?: number;
  /** Called after each seed with how many ran and how many failed. */
  readonly onProgress?: (done: number, failed: number) => void;
  /** Reads the wall clock for `wallMs` (ms); `performance.now` by default. No run ever reads it. */
  readonly wallClock?: () => number;
}

/** One violation of an invariant, with what it takes to reproduce it. */
export interface SimViolation {
  /** The check that failed (`convergence`, `acked-writes`, `lww-order`, `liveness`, `read-your-writes`, ...). */
  readonly checker: string;
  readonly message: string;
  /** Virtual time it was found, ms. */
  readonly atMs: number;
  readonly seed: number;
  /** How to run the failing seed again (a `tidelog replay` command, or a `simulate` call). */
  readonly replay: string;
  /** What the finding is about (a write, an op, a key, a node). */
  readonly subject?: Subject;
}

/** The smallest failing schedule the shrinker found. */
export interface ShrunkSchedule {
  /** The check it still fails. */
  readonly checker: string;
  readonly actions: readonly Action[];
  /** One line per action: `   1135ms write {"node":0,...}`. */
  readonly lines: readonly string[];
  /** Actions of the original schedule. */
  readonly actionsBefore: number;
  readonly trialRuns: number;
  /** Virtual time of the final heal. */
  readonly healAtMs: number;
}

/** Time, frames and bytes from the final heal to convergence, as percentiles over the runs that converged. */
export interface ConvergenceFigures {
  readonly runs: number;
  readonly ms: Percentiles;
  readonly frames: Percentiles;
  readonly bytes: Percentiles;
}

/** p50 / p95 / p99 (nearest rank; NaN without data). */
export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/** What one seed's run found. */
export interface SimulationResult {
  /** The target's name. */
  readonly target: string;
  readonly seed: number;
  /** True when every check held. */
  readonly passed: boolean;
  readonly violations: readonly SimViolation[];
  /** The checks that ran. */
  readonly checks: readonly string[];
  /** The options the run used (the seed's swarm draw with yours applied). */
  readonly options: SimOptions;
  readonly replay: string;
  readonly events: number;
  readonly virtualMs: number;
  readonly traceHash: string;
  readonly writesAcked: number;
  readonly faultsInjected: Readonly<Record<string, number>>;
  /** Undefined when the replicas did not converge after the final heal. */
  readonly convergence: RunResult['convergence'];
  readonly network: RunResult['network'];
  /** The shrunk schedule of the first violation's checker, when shrinking was on and the run failed. */
  readonly shrunk?: ShrunkSchedule;
  /** The harness's own result (Tidelog's adds ops, reuse and rejected input; a target's, writes issued). */
  readonly raw: RunResult;
}

/** What a sweep of seeds found. */
export interface SweepResult {
  readonly target: string;
  /** Seeds run, from `firstSeed` on. */
  readonly runs: number;
  readonly firstSeed: number;
  readonly passed: boolean;
  /** The failing seeds' results (the first with its shrunk schedule, when shrinking was on). */
  readonly failures: readonly SimulationResult[];
  readonly convergence: ConvergenceFigures;
  readonly events: number;
  readonly wallMs: number;
}

const API_OPTIONS = new Set(['seed', 'module', 'shrink', 'runs', 'failuresMax', 'onProgress', 'wallClock']);
const SHRINK_RUNS_DEFAULT = 200;

/** The harness `target` names, and the `--target` value replay commands use (undefined: a `simulate` call). */
function resolve(target: SimTarget, module: string | undefined): { harness: Harness; spec: string | undefined } {
  if (typeof target === 'string') {
    if (target === 'tidelog') return { harness: tidelogHarness, spec: undefined };
    const builtin = target === 'tidelog-adapter' ? BUILTIN_TARGETS.tidelog : BUILTIN_TARGETS[target];
    if (builtin === undefined) throw new InvalidArgumentError(`unknown target '${target}'; built in: tidelog, tidelog-adapter, ${Object.keys(BUILTIN_TARGETS).filter((n) => n !== 'tidelog').join(', ')} (or pass an adapter)`);
    return { harness: targetHarness(builtin, target), spec: target };
  }
  if (isCrdtTarget(target)) return { harness: targetHarness(target, module ?? target.name), spec: module };
  if (isHarness(target)) return { harness: target, spec: module ?? target.spec };
  throw new InvalidArgumentError('simulate: target must be an adapter (name, semantics, open), a harness, or a built-in name');
}

function isHarness(value: unknown): value is Harness {
  const h = value as Partial<Harness> | null;
  return typeof h === 'object' && h !== null && typeof h.run === 'function' && typeof h.options === 'function' && Array.isArray(h.faults);
}

/** The simulator options among `options` (without the API's own). */
function overridesOf(options: SimulateOptions): SimOverrides {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) if (!API_OPTIONS.has(name) && value !== undefined) out[name] = value;
  return out as SimOverrides;
}

function shrinkRunsOf(shrink: SimulateOptions['shrink'], fallback: boolean): number {
  if (shrink === undefined) return fallback ? SHRINK_RUNS_DEFAULT : 0;
  if (shrink === false) return 0;
  if (shrink === true) return SHRINK_RUNS_DEFAULT;
  if (!Number.isSafeInteger(shrink) || shrink < 0) throw new InvalidArgumentError('shrink must be true, false or a number of trial runs');
  return shrink;
}

/** How to run `seed` again: the CLI when the target has a name it can load, else the call. */
function replayOf(name: string, spec: string | undefined, tidelog: boolean, seed: number, overrides: SimOverrides): string {
  if (tidelog || spec !== undefined) return replayCommand(seed, overrides, spec);
  const flags = overrideFlags(overrides);
  const given = JSON.stringify({ seed, ...overrides });
  return `simulate(${name}, ${given})${flags === '' ? '' : ` (or with the adapter's module: npx tidelog replay ${seed} --target <module> ${flags})`}`;
}

/** Runs one seed and its checks; shrinks the schedule when it fails (unless `shrink: false`). */
export async function simulate(target: SimTarget, options: SimulateOptions = {}): Promise<SimulationResult> {
  const { harness, spec } = resolve(target, options.module);
  return runSeed(harness, spec, options.seed ?? 1, overridesOf(options), shrinkRunsOf(options.shrink, true));
}

async function runSeed(harness: Harness, spec: string | undefined, seed: number, overrides: SimOverrides, shrinkRuns: number): Promise<SimulationResult> {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InvalidArgumentError('seed must be a non-negative integer');
  const options = harness.options(seed, overrides);
  const raw = await harness.run(options);
  const replay = replayOf(harness.name, spec, harness === tidelogHarness, seed, overrides);
  const violations = raw.violations.map((v): SimViolation => ({ checker: v.checker, message: v.message, atMs: v.atMs, seed, replay, ...(v.subject === undefined ? {} : { subject: v.subject }) }));
  const first = raw.violations[0];
  let shrunk: ShrunkSchedule | undefined;
  if (first !== undefined && shrinkRuns > 0) {
    const result = await shrinkRun(harness, options, raw.plan, first.checker, { runsMax: shrinkRuns });
    shrunk = {
      checker: first.checker,
      actions: result.plan.actions,
      lines: result.plan.actions.map(describeAction),
      actionsBefore: result.actionsBefore,
      trialRuns: result.runs,
      healAtMs: result.plan.healAtMs,
    };
  }
  return {
    target: harness.name,
    seed,
    passed: raw.violations.length === 0,
    violations,
    checks: raw.checks,
    options,
    replay,
    events: raw.events,
    virtualMs: raw.virtualMs,
    traceHash: raw.traceHash,
    writesAcked: raw.writesAcked,
    faultsInjected: raw.faultsInjected,
    convergence: raw.convergence,
    network: raw.network,
    ...(shrunk === undefined ? {} : { shrunk }),
    raw,
  };
}

/** Runs `runs` seeds (from `seed`, default 1); shrinks the first failing one (unless `shrink: false`). */
export async function sweep(target: SimTarget, options: SweepOptions = {}): Promise<SweepResult> {
  const { harness, spec } = resolve(target, options.module);
  const runs = options.runs ?? 20;
  const firstSeed = options.seed ?? 1;
  if (!Number.isSafeInteger(runs) || runs < 1) throw new InvalidArgumentError('runs must be a positive integer');
  const failuresMax = options.failuresMax ?? Number.POSITIVE_INFINITY;
  const overrides = overridesOf(options);
  const shrinkRuns = shrinkRunsOf(options.shrink, true);
  const wallClock = options.wallClock ?? (() => performance.now()); // injected default: only wallMs reads it
  const started = wallClock();
  const failures: SimulationResult[] = [];
  const ms: number[] = [];
  const frames: number[] = [];
  const bytes: number[] = [];
  let events = 0;
  let ran = 0;
  for (let seed = firstSeed; seed < firstSeed + runs && failures.length < failuresMax; seed++) {
    const result = await runSeed(harness, spec, seed, overrides, failures.length === 0 ? shrinkRuns : 0);
    ran += 1;
    events += result.events;
    if (result.convergence !== undefined) {
      ms.push(result.convergence.ms);
      frames.push(result.convergence.messages);
      bytes.push(result.convergence.bytes);
    }
    if (!result.passed) failures.push(result);
    options.onProgress?.(ran, failures.length);
  }
  return {
    target: harness.name,
    runs: ran,
    firstSeed,
    passed: failures.length === 0,
    failures,
    convergence: { runs: ms.length, ms: percentiles(ms), frames: percentiles(frames), bytes: percentiles(bytes) },
    events,
    wallMs: wallClock() - started,
  };
}

/**
 * Sweeps `runs` seeds and throws a {@link SimulationFailedError} if any fails: its message names each failing
 * seed, the violations, the replay and the first failure's shrunk schedule. Resolves with the sweep otherwise.
 * @example
 * it('my CRDT converges under faults', () => expectConverges(myTarget, { runs: 20, steps: 300 }));
 */
export async function expectConverges(target: SimTarget, options: SweepOptions = {}): Promise<SweepResult> {
  const result = await sweep(target, options);
  if (result.passed) return result;
  throw new SimulationFailedError(failureMessage(result), {
    target: result.target,
    seeds: result.failures.map((f) => f.seed),
    failures: result.failures.map((f) => ({ seed: f.seed, violations: f.violations, replay: f.replay, shrunk: f.shrunk })),
  });
}

/** The text of a failed sweep: each failing seed, its first findings, its replay; the shrunk schedule. */
export function failureMessage(result: SweepResult): string {
  const lines = [`${result.failures.length} of ${result.runs} seeds failed on target ${result.target} (seeds ${result.firstSeed}..${result.firstSeed + result.runs - 1})`];
  for (const failure of result.failures.slice(0, 5)) {
    lines.push(`seed ${failure.seed}: ${failure.violations.length} violation(s)`);
    for (const v of failure.violations.slice(0, 3)) lines.push(`  [${v.checker}] at ${v.atMs.toFixed(0)}ms: ${v.message}`);
    lines.push(`  replay: ${failure.replay}`);
    const shrunk = failure.shrunk;
    if (shrunk !== undefined) {
      lines.push(`  shrunk schedule: ${shrunk.actions.length} of ${shrunk.actionsBefore} actions still fail [${shrunk.checker}] (${shrunk.trialRuns} trial runs; final heal at ${shrunk.healAtMs}ms):`);
      for (const line of shrunk.lines.slice(0, 30)) lines.push(`    ${line}`);
      if (shrunk.lines.length > 30) lines.push(`    ... ${shrunk.lines.length - 30} more`);
    }
  }
  if (result.failures.length > 5) lines.push(`... and ${result.failures.length - 5} more failing seeds: ${result.failures.slice(5).map((f) => f.seed).join(', ')}`);
  return lines.join('\n');
}
