/**
 * `tidelog sim`: runs the deterministic simulator. One seed, a sweep of seeds
 * (swarm testing), a replay with the trace printed, or a determinism check.
 * Exits non-zero on any violation.
 */
import { writeFileSync } from 'node:fs';
import { InvalidArgumentError } from '../core/errors.js';
import { checkDeterminism } from '../sim/determinism.js';
import { FAULT_NAMES, parseFaults, type SimOptions, type SimOverrides, swarmOptions } from '../sim/options.js';
import { describeAction } from '../sim/plan.js';
import { excerptFor, failureReport, percentiles, replayCommand, summarize } from '../sim/report.js';
import { shrinkPlan } from '../sim/shrink.js';
import { runSimulation, type SimResult } from '../sim/tidelog/simulator.js';
import { renderTimeline } from '../sim/timeline.js';
import { type Command, parseArgs } from './command.js';
import { runTargetCommand } from './sim-target.js';

const CONTROL_FLAGS = new Set(['seed', 'seeds', 'runs', 'replay', 'check-determinism', 'no-shrink', 'shrink-runs', 'trace', 'quiet', 'html', 'target']);
const STRING_OPTIONS = new Set(['keyDistribution', 'restoreMode', 'wipeMode', 'bug']);

/** Turns `--kebab-name value` flags into option overrides. */
export function parseOverrides(options: Map<string, string | true>): SimOverrides {
  const sample = swarmOptions(0);
  const out: Record<string, unknown> = {};
  for (const [flag, raw] of options) {
    if (CONTROL_FLAGS.has(flag)) continue;
    const name = flag === 'keys' ? 'keySpace' : flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (raw === true) throw new InvalidArgumentError(`--${flag} needs a value`);
    if (name === 'faults') out.faults = parseFaults(raw);
    else if (STRING_OPTIONS.has(name)) out[name] = raw;
    else if (name in sample && name !== 'seed') {
      const value = Number(raw);
      if (!Number.isFinite(value)) throw new InvalidArgumentError(`--${flag} must be a number`);
      out[name] = value;
    } else throw new InvalidArgumentError(`unknown option --${flag}`);
  }
  return out as SimOverrides;
}

function intFlag(options: Map<string, string | true>, name: string, fallback: number): number {
  const raw = options.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw === true || !Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`--${name} must be a non-negative integer`);
  return value;
}

function progressBar(write: (s: string) => void): (fraction: number, events: number) => void {
  return (fraction, events) => {
    const width = 30;
    const done = Math.round(fraction * width);
    write(`\r  [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${events} events`);
  };
}

/** Runs one seed, prints its summary; on failure prints the report and the shrunk schedule. */
async function runOne(options: SimOptions, overrides: SimOverrides, flags: Map<string, string | true>, out: (line: string) => void): Promise<SimResult> {
  const echo = flags.has('trace') || flags.has('replay') ? out : undefined;
  const long = options.steps * options.replicas >= 100_000 && process.stderr.isTTY === true;
  const started = performance.now();
  const html = flags.get('html');
  const result = await runSimulation(options, {
    ...(typeof html === 'string' ? { keepTrace: true } : {}),
    ...(echo === undefined ? {} : { echo }),
    ...(long ? { onProgress: progressBar((s) => process.stderr.write(s)) } : {}),
  });
  if (long) process.stderr.write('\n');
  const wallMs = performance.now() - started;
  for (const line of summarize(result, wallMs)) out(line);
  if (typeof html === 'string') {
    writeFileSync(html, renderTimeline(result.traceLines ?? [], options.replicas, `tidelog sim seed ${options.seed}: ${result.violations.length} violation(s), trace hash ${result.traceHash}`));
    out(`  timeline written to ${html}`);
  }
  if (result.violations.length > 0) await explainFailure(result, overrides, flags, out);
  return result;
}

async function explainFailure(result: SimResult, overrides: SimOverrides, flags: Map<string, string | true>, out: (line: string) => void): Promise<void> {
  // Rerun with every trace line kept to cut an excerpt around the first violation.
  const full = await runSimulation(result.options, { keepTrace: true });
  for (const line of failureReport(result, overrides, excerptFor(result.violations[0], full.traceLines, full.traceTail))) out(line);
  if (flags.has('no-shrink')) return;
  const first = result.violations[0];
  if (first === undefined) return;
  out(`  shrinking (cutting faults and writes while [${first.checker}] still fails)...`);
  const shrunk = await shrinkPlan(result.options, result.plan, first.checker, { runsMax: intFlag(flags, 'shrink-runs', 200) });
  out(`  smallest failing schedule: ${shrunk.plan.actions.length} of ${shrunk.actionsBefore} actions (${shrunk.runs} trial runs); final heal at ${shrunk.plan.healAtMs}ms:`);
  for (const action of shrunk.plan.actions.slice(0, 40)) out(`    ${describeAction(action)}`);
  if (shrunk.plan.actions.length > 40) out(`    ... ${shrunk.plan.actions.length - 40} more`);
  for (const v of shrunk.violations.filter((v) => v.checker === first.checker).slice(0, 3)) out(`    -> [${v.checker}] ${v.message}`);
}

async function sweep(firstSeed: number, count: number, overrides: SimOverrides, flags: Map<string, string | true>, out: (line: string) => void): Promise<number> {
  const convergenceMs: number[] = [];
  const messages: number[] = [];
  const bytes: number[] = [];
  const failed: number[] = [];
  let events = 0;
  const started = performance.now();
  const tty = process.stderr.isTTY === true;
  for (let i = 0; i < count; i++) {
    const seed = firstSeed + i;
    const result = await runSimulation(swarmOptions(seed, overrides));
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
      out(`  replay: ${replayCommand(seed, overrides)}`);
    }
    if (tty) progressBar((s) => process.stderr.write(s))((i + 1) / count, events);
  }
  if (tty) process.stderr.write('\n');
  const wallMs = performance.now() - started;
  const ms = percentiles(convergenceMs);
  const msg = percentiles(messages);
  const by = percentiles(bytes);
  out(`${count} seeds (${firstSeed}..${firstSeed + count - 1}), ${events} events in ${(wallMs / 1000).toFixed(1)} s (${Math.round((events / wallMs) * 1000)} events/s)`);
  out(`convergence after the final heal: p50 ${ms.p50.toFixed(0)} ms, p95 ${ms.p95.toFixed(0)} ms, p99 ${ms.p99.toFixed(0)} ms (virtual)`);
  out(`  messages p50 ${msg.p50} p95 ${msg.p95} p99 ${msg.p99}; bytes p50 ${by.p50} p95 ${by.p95} p99 ${by.p99}`);
  out(failed.length === 0 ? 'all seeds passed every checker' : `${failed.length} failing seed(s): ${failed.join(', ')}`);
  if (failed.length > 0 && !flags.has('no-shrink')) {
    const seed = failed[0] as number;
    out(`\nfirst failing seed ${seed} in detail:`);
    await runOne(swarmOptions(seed, overrides), overrides, flags, out);
  }
  return failed.length === 0 ? 0 : 1;
}

/** The `sim` subcommand. */
export const simCommand: Command = {
  name: 'sim',
  usage: 'sim [--seed N] [--replicas R] [--steps S] [--faults all|none|a,b] [--runs K] [--target tidelog|yjs|automerge|<module>] [--replay N [--html F]] [--check-determinism]',
  summary: 'run the deterministic fault simulator (a seed, a sweep of seeds, a replay, or a determinism check)',
  async run(args) {
    const { options: flags } = parseArgs(args);
    const out = (line: string): void => void process.stdout.write(`${line}\n`);
    const overrides = parseOverrides(flags);
    if (flags.get('faults') === 'list') {
      out(FAULT_NAMES.join(', '));
      return 0;
    }
    // Any other target runs through its adapter (src/sim/targets); `tidelog` keeps the full simulator below.
    const target = flags.get('target');
    if (target !== undefined && target !== 'tidelog') return runTargetCommand(target, flags, overrides, out);
    if (flags.has('replay')) {
      const seed = intFlag(flags, 'replay', 1);
      const result = await runOne(swarmOptions(seed, overrides), overrides, flags, out);
      return result.violations.length === 0 ? 0 : 1;
    }
    const seed = intFlag(flags, 'seed', 1);
    if (flags.has('check-determinism')) {
      const report = await checkDeterminism(swarmOptions(seed, overrides));
      if (report.identical) {
        out(`deterministic: seed ${seed} ran twice with identical traces (${report.events} events, trace hash ${report.hashes[0]})`);
        return 0;
      }
      const d = report.firstDifference;
      out(`NOT deterministic: seed ${seed} traces differ (hashes ${report.hashes[0]} vs ${report.hashes[1]})`);
      if (d !== undefined) out(`  first differing event #${d.index}:\n    run 1: ${d.first}\n    run 2: ${d.second}`);
      return 1;
    }
    const runs = flags.has('seeds') ? intFlag(flags, 'seeds', 1) : intFlag(flags, 'runs', 0);
    if (runs > 0) return sweep(seed, runs, overrides, flags, out);
    const result = await runOne(swarmOptions(seed, overrides), overrides, flags, out);
    return result.violations.length === 0 ? 0 : 1;
  },
};
