/**
 * The determinism self-check, for any harness: runs one seed twice with every
 * trace entry kept and names the first event where the two runs differ.
 */
import type { Harness } from './harness.js';
import type { SimOptions } from './options.js';
import { formatEntry, type TraceEntry } from './trace.js';

/** The outcome of a determinism check. */
export interface DeterminismReport {
  readonly identical: boolean;
  readonly hashes: readonly [string, string];
  readonly events: number;
  /** The first differing trace event, as text, when the runs differ. */
  readonly firstDifference?: { readonly index: number; readonly first: string; readonly second: string };
}

/** Runs `options` twice on `harness` and compares the traces event by event. */
export async function checkDeterminism(harness: Harness, options: SimOptions): Promise<DeterminismReport> {
  const a = await harness.run(options, { keepTrace: true });
  const b = await harness.run(options, { keepTrace: true });
  const hashes: [string, string] = [a.traceHash, b.traceHash];
  const firstDifference = firstTraceDifference(a.trace ?? [], b.trace ?? []);
  if (firstDifference !== undefined) return { identical: false, hashes, events: a.events, firstDifference };
  return { identical: a.traceHash === b.traceHash, hashes, events: a.events };
}

/** The first entry where two traces differ, by text (a missing one reads `(run ended)`), or undefined when they are equal. */
export function firstTraceDifference(a: readonly TraceEntry[], b: readonly TraceEntry[]): { index: number; first: string; second: string } | undefined {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i] === undefined ? '(run ended)' : formatEntry(a[i] as TraceEntry);
    const y = b[i] === undefined ? '(run ended)' : formatEntry(b[i] as TraceEntry);
    if (x !== y) return { index: i, first: x, second: y };
  }
  return undefined;
}
