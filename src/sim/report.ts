/**
 * Human-readable output of runs and sweeps, for every harness: the summary of
 * one run (with its verdict), percentiles, failure reports with the trace
 * around the first violation's subject, and the replay command.
 */
import type { Harness } from './harness.js';
import type { SimOverrides } from './options.js';
import type { RunResult, Subject, Violation } from './result.js';
import { eventNodes, formatEntry, type TraceEntry, type TraceEvent } from './trace.js';

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

/** The one-line command that replays a seed (`spec`: the `--target` value, when the run was not Tidelog's own). */
export function replayCommand(seed: number, overrides: SimOverrides, spec?: string): string {
  const flags = overrideFlags(overrides);
  return `npx tidelog replay ${seed}${spec === undefined ? '' : ` --target ${spec}`}${flags === '' ? '' : ` ${flags}`}`;
}

/** `seed 3` or `seed 3 target yjs`: how reports name a run. */
export function runName(harness: Harness, seed: number): string {
  return harness.spec === undefined ? `seed ${seed}` : `seed ${seed} target ${harness.name}`;
}

/**
 * A short summary of one run ({@link verdict} or {@link failureReport} follows it). Network figures say what they count: a frame is
 * sent once (broadcast), and reaches each other replica as one copy that may be dropped or duplicated.
 */
export function summarize<R extends RunResult>(harness: Harness<R>, result: R, wallMs: number): string[] {
  const o = result.options;
  const n = result.network;
  const faults = Object.entries(result.faultsInjected)
    .map(([kind, count]) => `${kind}=${count}`)
    .join(' ');
  const c = result.convergence;
  return [
    `${runName(harness, o.seed)}: ${o.replicas} replicas, ${o.steps} steps, keys ${o.keySpace} ${o.keyDistribution}, faults on: ${o.faults.length === 0 ? 'none' : o.faults.join(',')}`,
    `  events ${result.events} in ${wallMs.toFixed(0)} ms wall (${Math.round((result.events / Math.max(wallMs, 1)) * 1000)} events/s), ${result.virtualMs.toFixed(0)} ms virtual; writes acked ${result.writesAcked}`,
    `  frames sent ${n.framesSent} (per frame, each to the ${o.replicas - 1} other replica${o.replicas === 2 ? '' : 's'}); per delivery: ${n.framesDelivered} delivered, ${n.framesDropped} dropped, ${n.framesDuplicated} duplicated, ${n.framesReplayed} replayed`,
    `  faults injected: ${faults === '' ? 'none' : faults}`,
    ...harness.describe(result).map((line) => `  ${line}`),
    c === undefined ? '  convergence: NOT REACHED after the final heal' : `  converged ${c.ms.toFixed(0)} ms (virtual) after the final heal, ${c.messages} frame${c.messages === 1 ? '' : 's'} sent, ${c.bytes} bytes`,
    `  checks: ${result.checks.join(', ')}; trace hash ${result.traceHash}`,
  ];
}

/** `PASSED seed 3: every check held` or `FAILED seed 3: 2 violation(s)`. */
export function verdict(harness: Harness, result: RunResult): string {
  const name = runName(harness, result.options.seed);
  if (result.violations.length === 0) return `PASSED ${name}: every check held`;
  return `FAILED ${name}: ${result.violations.length} violation(s)`;
}

/**
 * The failure report of a failing run: its verdict, the violations, the options, an excerpt of the trace
 * (from `traced`, the same run with every entry kept, when `result` did not keep them) and the replay command.
 */
export function failureReport<R extends RunResult>(harness: Harness<R>, result: R, overrides: SimOverrides, traced: RunResult = result): string[] {
  const lines = [verdict(harness, result)];
  const excerpt = excerptFor(result.violations, traced.trace, traced.traceTail);
  for (const v of result.violations.slice(0, 8)) lines.push(`  [${v.checker}] at ${v.atMs.toFixed(0)}ms: ${v.message}`);
  lines.push(`  options: ${JSON.stringify(result.options)}`);
  lines.push('  trace excerpt (around the write, op, key or node the violations name):');
  for (const entry of excerpt) lines.push(`    ${formatEntry(entry)}`);
  lines.push(`  replay: ${replayCommand(result.options.seed, overrides, harness.spec)}`);
  return lines;
}

/** Tests an event against one part of a subject. */
type Matcher = (event: TraceEvent) => boolean;

function matchers(subject: Subject): Matcher[] {
  const out: Matcher[] = [];
  const { opId, key, node } = subject;
  // The most specific subject first: an op id (the batch it came in), then a written key, then a node.
  if (opId !== undefined) out.push((e) => (e.kind === 'commit' || e.kind === 'merge') && e.firstOpId === opId);
  if (key !== undefined) out.push((e) => e.kind === 'write' && e.writes.some((w) => w.key === key));
  if (node !== undefined) out.push((e) => eventNodes(e).includes(node));
  return out;
}

/**
 * The trace around the violations: around the write one of them names (a target run's writes are numbered),
 * else the first violation's own excerpt (found during the run), else around the first event about its
 * subject, else the last events.
 */
export function excerptFor(violations: readonly Violation[], entries: readonly TraceEntry[] | undefined, tail: readonly TraceEntry[]): TraceEntry[] {
  const first = violations[0];
  if (first === undefined) return [];
  const write = violations.find((v) => v.subject?.write !== undefined)?.subject?.write;
  if (write !== undefined && entries !== undefined) {
    // A batch's write event carries its first entry's number; the violation may name a later one.
    const at = entries.findIndex((entry) => entry.event.kind === 'write' && entry.event.seq !== undefined && entry.event.seq <= write && write < entry.event.seq + entry.event.writes.length);
    if (at >= 0) return entries.slice(Math.max(0, at - 6), at + 10);
  }
  if (first.excerpt !== undefined) return [...first.excerpt];
  if (entries === undefined || first.subject === undefined) return tail.slice(-12);
  for (const matches of matchers(first.subject)) {
    const at = entries.findIndex((entry) => matches(entry.event));
    if (at >= 0) return entries.slice(Math.max(0, at - 6), at + 6);
  }
  return tail.slice(-12);
}
