/**
 * Human-readable output of runs and sweeps: summaries, percentiles, failure
 * reports with a replay command.
 */
import type { Violation } from './tidelog/history.js';
import type { SimOptions, SimOverrides } from './options.js';
import type { SimResult } from './tidelog/simulator.js';

/** The p-th percentile (nearest rank) of `values`; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** p50/p95/p99 of a list. */
export function percentiles(values: readonly number[]): { p50: number; p95: number; p99: number } {
  return { p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99) };
}

/** The flags that reproduce `overrides` on the command line. */
export function overrideFlags(overrides: SimOverrides): string {
  const flags: string[] = [];
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const flag = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    flags.push(`--${flag} ${Array.isArray(value) ? (value.length === 0 ? 'none' : value.join(',')) : String(value)}`);
  }
  return flags.join(' ');
}

/** The one-line command that replays a seed. */
export function replayCommand(seed: number, overrides: SimOverrides): string {
  const flags = overrideFlags(overrides);
  return `npx tidelog replay ${seed}${flags === '' ? '' : ` ${flags}`}`;
}

/** A short summary of one run. */
export function summarize(result: SimResult, wallMs: number): string[] {
  const o = result.options;
  const faults = Object.entries(result.faultsInjected)
    .map(([kind, n]) => `${kind}=${n}`)
    .join(' ');
  const c = result.convergence;
  return [
    `seed ${o.seed}: ${o.replicas} replicas, ${o.steps} steps, keys ${o.keySpace} ${o.keyDistribution}, faults on: ${o.faults.length === 0 ? 'none' : o.faults.join(',')}`,
    `  events ${result.events} in ${wallMs.toFixed(0)} ms wall (${Math.round((result.events / Math.max(wallMs, 1)) * 1000)} events/s), ${result.virtualMs.toFixed(0)} ms virtual`,
    `  writes acked ${result.writesAcked}, ops committed ${result.opsCommitted}; frames sent ${result.network.framesSent}, dropped ${result.network.framesDropped}, duplicated ${result.network.framesDuplicated}, replayed ${result.network.framesReplayed}`,
    `  faults injected: ${faults === '' ? 'none' : faults}; corrupt records dropped ${result.rejected.recordsDropped}; op id reuse ${result.idReuse.reused} (detected ${result.idReuse.detected})`,
    c === undefined ? '  convergence: NOT REACHED after the final heal' : `  converged ${c.ms.toFixed(0)} ms (virtual) after the final heal, ${c.messages} messages, ${c.bytes} bytes`,
    `  trace hash ${result.traceHash}`,
  ];
}

/** The failure report: seed, options, violations, an excerpt and the replay command. */
export function failureReport(result: SimResult, overrides: SimOverrides, excerpt: readonly string[]): string[] {
  const lines = [`FAILED seed ${result.options.seed}: ${result.violations.length} violation(s)`];
  for (const v of result.violations.slice(0, 8)) lines.push(`  [${v.checker}] at ${v.atMs.toFixed(0)}ms: ${v.message}`);
  lines.push(`  options: ${JSON.stringify(optionsForPrint(result.options))}`);
  lines.push('  trace excerpt around the first violation:');
  for (const line of excerpt) lines.push(`    ${line}`);
  lines.push(`  replay: ${replayCommand(result.options.seed, overrides)}`);
  return lines;
}

function optionsForPrint(options: SimOptions): Record<string, unknown> {
  return { ...options };
}

/** Trace lines around the first violation: in-run violations carry their own; otherwise the lines naming its subject. */
export function excerptFor(violation: Violation | undefined, lines: readonly string[] | undefined, tail: readonly string[]): string[] {
  if (violation === undefined) return [];
  if (violation.excerpt !== undefined) return [...violation.excerpt];
  if (lines === undefined) return tail.slice(-12);
  // The most specific subject first: an op id, then a written key, then a node.
  const ids = violation.message.match(/[0-9a-f]{16}:\d+/g) ?? [];
  const keys = (violation.message.match(/\bk\d+\b/g) ?? []).map((key) => `${key}=`);
  const nodes = (violation.message.match(/\bn\d+\b/g) ?? []).map((node) => `${node} `);
  for (const needle of [...ids.map((id) => `${id}..`), ...keys, ...nodes]) {
    const at = lines.findIndex((line) => line.includes(needle));
    if (at >= 0) return lines.slice(Math.max(0, at - 6), at + 6).map((line, i) => `#${Math.max(0, at - 6) + i} ${line}`);
  }
  return tail.slice(-12);
}
