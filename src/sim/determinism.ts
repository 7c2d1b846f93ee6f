/**
 * The determinism self-check: runs one seed twice with every trace line kept
 * and names the first event where the two runs differ.
 */
import type { SimOptions } from './options.js';
import { runSimulation } from './simulator.js';

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
  const length = Math.max(la.length, lb.length);
  for (let i = 0; i < length; i++) {
    if (la[i] !== lb[i]) return { identical: false, hashes, events: a.events, firstDifference: { index: i, first: la[i] ?? '(run ended)', second: lb[i] ?? '(run ended)' } };
  }
  return { identical: a.traceHash === b.traceHash, hashes, events: a.events };
}
