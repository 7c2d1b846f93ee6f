/**
 * `tidelog sim --target <name|module>` for targets other than Tidelog's full
 * simulator: one seed, a sweep (`--runs K`, alias `--seeds K`), a replay with
 * the trace printed, or a determinism check, through the adapter run loop. A
 * failing seed is shrunk like Tidelog's (`--shrink-runs N`, `--no-shrink`).
 */
import { writeFileSync } from 'node:fs';
import { InvalidArgumentError } from '../core/errors.js';
import { firstTraceDifference } from '../sim/determinism.js';
import type { SimOverrides } from '../sim/options.js';
import { percentiles } from '../sim/report.js';
import { renderTimeline } from '../sim/timeline.js';
import { describeAction } from '../sim/plan.js';
import { NON_TARGET_FAULTS, runTarget, shrinkTargetPlan, summarizeTarget, targetFailureReport, targetOptions, targetReplayCommand, type TargetRunResult } from '../sim/targets/index.js';
import type { CrdtTarget } from '../sim/targets/target.js';
import { loadTarget } from './load-target.js';

type Flags = Map<string, string | true>;

function intFlag(flags: Flags, name: string, fallback: number): number {
  const raw = flags.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw === true || !Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`--${name} must be a non-negative integer`);
  return value;
}

async function runOne(target: CrdtTarget, spec: string, seed: number, overrides: SimOverrides, flags: Flags, out: (line: string) => void): Promise<TargetRunResult> {
  const echo = flags.has('trace') || flags.has('replay') ? out : undefined;
  const started = performance.now();
  const result = await runTarget(target, targetOptions(seed, overrides), { keepTrace: true, ...(echo === undefined ? {} : { echo }) });
  for (const line of summarizeTarget(result, performance.now() - started)) out(line);
  const html = flags.get('html');
  if (typeof html === 'string') {
    writeFileSync(html, renderTimeline(result.traceLines ?? [], result.options.replicas, `tidelog sim seed ${seed} target ${target.name}: ${result.violations.length} violation(s), trace hash ${result.traceHash}`));
    out(`  timeline written to ${html}`);
  }
  if (result.violations.length === 0) return result;
  for (const line of targetFailureReport(result, spec, overrides)) out(line);
  const first = result.violations[0];
  if (first === undefined || flags.has('no-shrink')) return result;
  out(`  shrinking (cutting faults and writes while [${first.checker}] still fails)...`);
  const shrunk = await shrinkTargetPlan(target, result.options, result.plan, first.checker, { runsMax: intFlag(flags, 'shrink-runs', 100) });
  out(`  smallest failing schedule: ${shrunk.plan.actions.length} of ${shrunk.actionsBefore} actions (${shrunk.runs} trial runs); final heal at ${shrunk.plan.healAtMs}ms:`);
  for (const action of shrunk.plan.actions.slice(0, 40)) out(`    ${describeAction(action)}`);
  if (shrunk.plan.actions.length > 40) out(`    ... ${shrunk.plan.actions.length - 40} more`);
  for (const v of shrunk.violations.filter((v) => v.checker === first.checker).slice(0, 3)) out(`    -> [${v.checker}] ${v.message}`);
  return result;
}

async function sweep(target: CrdtTarget, spec: string, firstSeed: number, count: number, overrides: SimOverrides, out: (line: string) => void): Promise<number> {
  const convergenceMs: number[] = [];
  const failed: number[] = [];
  let events = 0;
  const started = performance.now();
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    const result = await runTarget(target, targetOptions(seed, overrides));
    events += result.events;
    if (result.convergence !== undefined) convergenceMs.push(result.convergence.ms);
    if (result.violations.length === 0) continue;
    failed.push(seed);
    out(`seed ${seed}: ${result.violations.length} violation(s): [${result.violations[0]?.checker}] ${result.violations[0]?.message}`);
    out(`  replay: ${targetReplayCommand(seed, spec, overrides)}`);
  }
  const ms = percentiles(convergenceMs);
  out(`${count} seeds (${firstSeed}..${firstSeed + count - 1}) on target ${target.name}, ${events} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  out(`convergence after the final heal: p50 ${ms.p50.toFixed(0)} ms, p95 ${ms.p95.toFixed(0)} ms, p99 ${ms.p99.toFixed(0)} ms (virtual)`);
  out(failed.length === 0 ? 'all seeds passed every check' : `${failed.length} failing seed(s): ${failed.join(', ')}`);
  return failed.length === 0 ? 0 : 1;
}

async function determinism(target: CrdtTarget, seed: number, overrides: SimOverrides, out: (line: string) => void): Promise<number> {
  const a = await runTarget(target, targetOptions(seed, overrides), { keepTrace: true });
  const b = await runTarget(target, targetOptions(seed, overrides), { keepTrace: true });
  const difference = firstTraceDifference(a.traceLines ?? [], b.traceLines ?? []);
  if (difference === undefined && a.traceHash === b.traceHash) {
    out(`deterministic: seed ${seed} on target ${target.name} ran twice with identical traces (${a.events} events, trace hash ${a.traceHash})`);
    return 0;
  }
  out(`NOT deterministic: seed ${seed} on target ${target.name} traces differ (hashes ${a.traceHash} vs ${b.traceHash})`);
  if (difference !== undefined) out(`  first differing event #${difference.index}:\n    run 1: ${difference.first}\n    run 2: ${difference.second}`);
  return 1;
}

/** Runs the `sim` command against the target `spec`; resolves with the exit status. */
export async function runTargetCommand(spec: string | true, flags: Flags, overrides: SimOverrides, out: (line: string) => void): Promise<number> {
  const target = await loadTarget(spec);
  const name = spec as string;
  if (flags.get('html') === true) throw new InvalidArgumentError('--html needs a file name');
  const ignored = (overrides.faults ?? []).filter((fault) => NON_TARGET_FAULTS.includes(fault));
  if (ignored.length > 0) out(`note: faults not injected into targets: ${ignored.join(', ')}`);
  if (flags.has('replay')) {
    const result = await runOne(target, name, intFlag(flags, 'replay', 1), overrides, flags, out);
    return result.violations.length === 0 ? 0 : 1;
  }
  const seed = intFlag(flags, 'seed', 1);
  if (flags.has('check-determinism')) return determinism(target, seed, overrides, out);
  const runs = flags.has('runs') ? intFlag(flags, 'runs', 1) : intFlag(flags, 'seeds', 0);
  if (runs > 0) return sweep(target, name, seed, runs, overrides, out);
  const result = await runOne(target, name, seed, overrides, flags, out);
  return result.violations.length === 0 ? 0 : 1;
}
