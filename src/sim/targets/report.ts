/** Human-readable output of target runs: summary, failure report, replay command. */
import { excerptFor, overrideFlags } from '../report.js';
import type { SimOverrides } from '../options.js';
import type { TargetRunResult } from './run-target.js';

/** The one-line command that replays a target run (`spec`: a built-in name or a module path). */
export function targetReplayCommand(seed: number, spec: string, overrides: SimOverrides): string {
  const flags = overrideFlags(overrides);
  return `npx tidelog replay ${seed} --target ${spec}${flags === '' ? '' : ` ${flags}`}`;
}

/** A short summary of one target run. */
export function summarizeTarget(result: TargetRunResult, wallMs: number): string[] {
  const o = result.options;
  const faults = Object.entries(result.faultsInjected).map(([kind, n]) => `${kind}=${n}`).join(' ');
  const c = result.convergence;
  return [
    `seed ${o.seed} target ${result.target}: ${o.replicas} replicas, ${o.steps} steps, keys ${o.keySpace} ${o.keyDistribution}, faults on: ${o.faults.length === 0 ? 'none' : o.faults.join(',')}`,
    `  events ${result.events} in ${wallMs.toFixed(0)} ms wall, ${result.virtualMs.toFixed(0)} ms virtual; writes issued ${result.writesIssued}, acked ${result.writesAcked}`,
    `  frames sent ${result.network.framesSent}, dropped ${result.network.framesDropped}, duplicated ${result.network.framesDuplicated}, replayed ${result.network.framesReplayed}; faults injected: ${faults === '' ? 'none' : faults}`,
    c === undefined ? '  convergence: NOT REACHED after the final heal' : `  converged ${c.ms.toFixed(0)} ms (virtual) after the final heal, ${c.messages} messages, ${c.bytes} bytes`,
    `  checks: ${result.checks.join(', ')}; trace hash ${result.traceHash}`,
  ];
}

/** Trace lines around the write the first violation naming one names (`write #N`), else the simulator's generic excerpt. */
export function targetExcerpt(result: TargetRunResult): string[] {
  const first = result.violations[0];
  const lines = result.traceLines;
  const naming = result.violations.find((v) => /write #\d+/.test(v.message));
  const seq = naming?.message.match(/write #(\d+)/)?.[1];
  if (seq !== undefined && lines !== undefined) {
    // A batch's write line names its first entry; the violation may name a later one.
    let at = -1;
    for (let n = Number(seq); n >= 0 && at < 0; n--) at = lines.findIndex((line) => line.includes(` write n`) && line.includes(` #${n} `));
    if (at >= 0) return lines.slice(Math.max(0, at - 6), at + 10).map((line, i) => `#${Math.max(0, at - 6) + i} ${line}`);
  }
  return excerptFor(first, lines, result.traceTail);
}

/** The failure report: seed, target, violations, options, an excerpt and the replay command. */
export function targetFailureReport(result: TargetRunResult, spec: string, overrides: SimOverrides): string[] {
  const lines = [`FAILED seed ${result.options.seed} target ${result.target}: ${result.violations.length} violation(s)`];
  for (const v of result.violations.slice(0, 8)) lines.push(`  [${v.checker}] at ${v.atMs.toFixed(0)}ms: ${v.message}`);
  lines.push(`  options: ${JSON.stringify(result.options)}`);
  lines.push('  trace excerpt (around the first write a violation names, else the first violation):');
  for (const line of targetExcerpt(result)) lines.push(`    ${line}`);
  lines.push(`  replay: ${targetReplayCommand(result.options.seed, spec, overrides)}`);
  return lines;
}
