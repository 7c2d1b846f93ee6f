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

/** The failure report: seed, target, violations, options, an excerpt and the replay command. */
export function targetFailureReport(result: TargetRunResult, spec: string, overrides: SimOverrides): string[] {
  const lines = [`FAILED seed ${result.options.seed} target ${result.target}: ${result.violations.length} violation(s)`];
  for (const v of result.violations.slice(0, 8)) lines.push(`  [${v.checker}] at ${v.atMs.toFixed(0)}ms: ${v.message}`);
  lines.push(`  options: ${JSON.stringify(result.options)}`);
  lines.push('  trace excerpt around the first violation:');
  for (const line of excerptFor(result.violations[0], result.traceLines, result.traceTail)) lines.push(`    ${line}`);
  lines.push(`  replay: ${targetReplayCommand(result.options.seed, spec, overrides)}`);
  return lines;
}
