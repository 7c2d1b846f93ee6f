/**
 * `tidelog sim`: runs the deterministic simulator over one harness: Tidelog's
 * own (the default, `--target tidelog`), or a target's through its adapter
 * (`--target yjs|automerge|loro|tidelog-adapter|<module>`). One seed, a sweep of
 * seeds (swarm testing), a replay with the trace printed, or a determinism
 * check; a failing seed is reported with an excerpt of its trace and shrunk
 * (`--shrink-runs N`, `--no-shrink`). Exits non-zero on any violation.
 */
import { writeFileSync } from 'node:fs';
import { InvalidArgumentError } from '../core/errors.js';
import { checkDeterminism } from '../sim/determinism.js';
import type { Harness } from '../sim/harness.js';
import { FAULT_NAMES, parseFaults, type SimOverrides, swarmOptions } from '../sim/options.js';
import { describeAction } from '../sim/plan.js';
import { failureReport, percentiles, replayCommand, runName, summarize, verdict } from '../sim/report.js';
import type { RunResult } from '../sim/result.js';
import { shrinkRun } from '../sim/shrink.js';
import { renderTimeline } from '../sim/timeline.js';
import { tidelogHarness } from '../sim/tidelog/harness.js';
import type { FlagValues, ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import type { Io } from './command.js';
import { loadHarness } from './load-target.js';
import { OVERRIDE_FLAGS } from './sim-flags.js';

type Flags = FlagValues;
type Out = (line: string) => void;

const SHRINK_RUNS_DEFAULT = 200;

/**
 * The `SimOptions` overrides the flags fix (values already checked by the parser; `--faults` here).
 * Every override is checked against the simulator's own ranges too, so a bad one is a usage error now.
 */
export function parseOverrides(flags: Flags): SimOverrides {
  const out: Record<string, unknown> = {};
  const options = new Map(OVERRIDE_FLAGS.map((flag) => [flag.name, flag.option]));
  // In the order typed, so a replay command lists them as the user gave them.
  for (const [name, value] of flags) {
    if (name === 'faults') out.faults = asUsage(() => parseFaults(String(value)));
    const option = options.get(name);
    if (option !== undefined) out[option] = value;
  }
  asUsage(() => swarmOptions(1, out as SimOverrides));
  return out as SimOverrides;
}

/** Runs `check`, turning its InvalidArgumentError into a usage error (exit status 2). */
function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof InvalidArgumentError && !(error instanceof UsageError)) {
      // The simulator names its options (`replicas`); the user typed flags (`--replicas`).
      let message = error.message;
      for (const flag of OVERRIDE_FLAGS) message = message.replace(new RegExp(`\\b${flag.option}\\b`, 'g'), `--${flag.name}`);
      throw new UsageError(message, { ...error.details });
    }
    throw error;
  }
}

function intFlag(flags: Flags, name: string, fallback: number): number {
  const value = flags.get(name);
  return typeof value === 'number' ? value : fallback;
}

/** `--runs K` (and its older name `--seeds K`): how many seeds to sweep, 0 for one run. Both at once is an error. */
function sweepCount(flags: Flags): number {
  if (flags.has('runs') && flags.has('seeds')) throw new UsageError('--runs and --seeds are the same option (--seeds is its older name): give one');
  return flags.has('runs') ? intFlag(flags, 'runs', 0) : intFlag(flags, 'seeds', 0);
}

function progressBar(write: (s: string) => void): (fraction: number, events: number) => void {
  return (fraction, events) => {
    const width = 30;
    const done = Math.round(fraction * width);
    write(`\r  [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${events} events`);
  };
}

/** Runs one seed, prints its summary and verdict; on failure prints the report and the shrunk schedule. */
async function runOne(harness: Harness, seed: number, overrides: SimOverrides, flags: Flags, out: Out): Promise<RunResult> {
  const options = harness.options(seed, overrides);
  const echo = flags.has('trace') || flags.has('replay') ? out : undefined;
  const long = options.steps * options.replicas >= 100_000 && process.stderr.isTTY === true;
  const html = flags.get('html');
  const started = performance.now();
  const result = await harness.run(options, {
    ...(typeof html === 'string' ? { keepTrace: true } : {}),
    ...(echo === undefined ? {} : { echo }),
    ...(long ? { onProgress: progressBar((s) => process.stderr.write(s)) } : {}),
  });
  if (long) process.stderr.write('\n');
  for (const line of summarize(harness, result, performance.now() - started)) out(line);
  if (typeof html === 'string') {
    writeFileSync(
      html,
      renderTimeline(result.trace ?? [], options.replicas, `tidelog sim ${runName(harness, seed)}: ${result.violations.length} violation(s), trace hash ${result.traceHash}`),
    );
    out(`  timeline written to ${html}`);
  }
  if (result.violations.length === 0) out(verdict(harness, result));
  else await explainFailure(harness, result, overrides, flags, out);
  return result;
}

async function explainFailure(harness: Harness, result: RunResult, overrides: SimOverrides, flags: Flags, out: Out): Promise<void> {
  // The excerpt needs every trace entry: a run that did not keep them runs again (same seed, same trace).
  const full = result.trace === undefined ? await harness.run(result.options, { keepTrace: true, plan: result.plan }) : result;
  for (const line of failureReport(harness, result, overrides, full)) out(line);
  const first = result.violations[0];
  if (first === undefined || flags.has('no-shrink')) return;
  out(`  shrinking (cutting faults and writes while [${first.checker}] still fails)...`);
  const shrunk = await shrinkRun(harness, result.options, result.plan, first.checker, { runsMax: intFlag(flags, 'shrink-runs', SHRINK_RUNS_DEFAULT) });
  out(`  smallest failing schedule: ${shrunk.plan.actions.length} of ${shrunk.actionsBefore} actions (${shrunk.runs} trial runs); final heal at ${shrunk.plan.healAtMs}ms:`);
  for (const action of shrunk.plan.actions.slice(0, 40)) out(`    ${describeAction(action)}`);
  if (shrunk.plan.actions.length > 40) out(`    ... ${shrunk.plan.actions.length - 40} more`);
  for (const v of shrunk.violations.filter((v) => v.checker === first.checker).slice(0, 3)) out(`    -> [${v.checker}] ${v.message}`);
}

async function sweep(harness: Harness, firstSeed: number, count: number, overrides: SimOverrides, flags: Flags, out: Out): Promise<number> {
  const convergenceMs: number[] = [];
  const messages: number[] = [];
  const bytes: number[] = [];
  const failed: number[] = [];
  let events = 0;
  const started = performance.now();
  const tty = process.stderr.isTTY === true;
  for (let i = 0; i < count; i++) {
    const seed = firstSeed + i;
    const result = await harness.run(harness.options(seed, overrides));
    events += result.events;
    if (result.convergence !== undefined) {
      convergenceMs.push(result.convergence.ms);
      messages.push(result.convergence.messages);
      bytes.push(result.convergence.bytes);
    }
    if (result.violations.length > 0) {
      failed.push(seed);
      if (tty) process.stderr.write('\n');
      out(`seed ${seed}: ${result.violations.length} violation(s): [${result.violations[0]?.checker}] ${result.violations[0]?.message}`);
      out(`  replay: ${replayCommand(seed, overrides, harness.spec)}`);
    }
    if (tty) progressBar((s) => process.stderr.write(s))((i + 1) / count, events);
  }
  if (tty) process.stderr.write('\n');
  const wallMs = performance.now() - started;
  const ms = percentiles(convergenceMs);
  const msg = percentiles(messages);
  const by = percentiles(bytes);
  const on = harness.spec === undefined ? '' : ` on target ${harness.name}`;
  out(
    `${count} seeds (${firstSeed}..${firstSeed + count - 1})${on}, ${events} events in ${(wallMs / 1000).toFixed(1)} s (${Math.round((events / Math.max(wallMs, 1)) * 1000)} events/s)`,
  );
  out(`convergence after the final heal: p50 ${ms.p50.toFixed(0)} ms, p95 ${ms.p95.toFixed(0)} ms, p99 ${ms.p99.toFixed(0)} ms (virtual)`);
  out(`  frames sent meanwhile p50 ${msg.p50} p95 ${msg.p95} p99 ${msg.p99}; bytes p50 ${by.p50} p95 ${by.p95} p99 ${by.p99}`);
  out(failed.length === 0 ? `PASSED: all ${count} seeds passed every check` : `FAILED: ${failed.length} failing seed(s): ${failed.join(', ')}`);
  if (failed.length > 0 && !flags.has('no-shrink')) {
    const seed = failed[0] as number;
    out(`\nfirst failing seed ${seed} in detail:`);
    await runOne(harness, seed, overrides, flags, out);
  }
  return failed.length === 0 ? 0 : 1;
}

async function determinism(harness: Harness, seed: number, overrides: SimOverrides, out: Out): Promise<number> {
  const report = await checkDeterminism(harness, harness.options(seed, overrides));
  const name = runName(harness, seed);
  if (report.identical) {
    out(`deterministic: ${name} ran twice with identical traces (${report.events} events, trace hash ${report.hashes[0]})`);
    return 0;
  }
  const d = report.firstDifference;
  out(`NOT deterministic: ${name} traces differ (hashes ${report.hashes[0]} vs ${report.hashes[1]})`);
  if (d !== undefined) out(`  first differing event #${d.index}:\n    run 1: ${d.first}\n    run 2: ${d.second}`);
  return 1;
}

/** Runs `tidelog sim` with checked arguments. */
export async function runSimCommand(args: ParsedArgs, io: Io): Promise<number> {
  const flags = args.flags;
  const out: Out = io.out;
  if (flags.get('faults') === 'list') {
    out(FAULT_NAMES.join(', '));
    return 0;
  }
  const modes = ['replay', 'check-determinism', flags.has('seeds') ? 'seeds' : 'runs'].filter((name) => flags.has(name));
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} exclude each other`);
  const overrides = parseOverrides(flags);
  const spec = flags.get('target');
  const harness = spec === undefined || spec === 'tidelog' ? tidelogHarness : await loadHarness(String(spec));
  const ignored = (overrides.faults ?? []).filter((fault) => !harness.faults.includes(fault));
  if (ignored.length > 0) io.err(`note: faults the ${harness.name} target cannot take, not injected: ${ignored.join(', ')}`);
  if (flags.has('replay')) return (await runOne(harness, intFlag(flags, 'replay', 1), overrides, flags, out)).violations.length === 0 ? 0 : 1;
  const seed = intFlag(flags, 'seed', 1);
  if (flags.has('check-determinism')) return determinism(harness, seed, overrides, out);
  const runs = sweepCount(flags);
  if (runs > 0) return sweep(harness, seed, runs, overrides, flags, out);
  return (await runOne(harness, seed, overrides, flags, out)).violations.length === 0 ? 0 : 1;
}

/** Runs `tidelog replay <seed>`: `sim --replay <seed>` with the same flags. */
export function runReplayCommand(args: ParsedArgs, io: Io): Promise<number> {
  const flags = new Map(args.flags);
  flags.set('replay', Number(args.positionals[0]));
  return runSimCommand({ ...args, flags }, io);
}
