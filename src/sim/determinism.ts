/**
 * The determinism self-check: runs one seed twice with every trace line kept
 * and names the first event where the two runs differ.
 */
import type { SimOptions } from './options.js';
import { runSimulation } from './tidelog/simulator.js';

/** The outcome of a determinism check. */
export interface DeterminismReport {
  readonly identical: boolean;
  readonly hashes: readonly [string, string];
  readonly events: number;
  /** The first differing trace line, when the runs differ. */
  readonly firstDifference?: { readonly index: number; readonly first: string; readonly second: string };
}

/** Runs `options` twice and compares the traces line by line. */
export async function checkDeterminism(options: SimOptions): Promise<DeterminismReport> {
  const a = await runSimulation(options, { keepTrace: true });
  const b = await runSimulation(options, { keepTrace: true });
  const la = a.traceLines ?? [];
  const lb = b.traceLines ?? [];
  const hashes: [string, string] = [a.traceHash, b.traceHash];
  const firstDifference = firstTraceDifference(la, lb);
  if (firstDifference !== undefined) return { identical: false, hashes, events: a.events, firstDifference };
  return { identical: a.traceHash === b.traceHash, hashes, events: a.events };
}

/** The first line where two traces differ (a missing line reads `(run ended)`), or undefined when they are equal. */
export function firstTraceDifference(a: readonly string[], b: readonly string[]): { index: number; first: string; second: string } | undefined {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return { index: i, first: a[i] ?? '(run ended)', second: b[i] ?? '(run ended)' };
  return undefined;
}
