/**
 * The bookkeeping of answers to hellos: which ops a peer holds past its holes (so they are not sent again), and
 * how far our answers to a peer ran ahead of what its vector shows (so a peer that asks again before the last
 * answer landed is not sent the same ops twice).
 */
import type { Op } from '../core/op.js';
import type { VersionVector } from '../core/version-vector.js';
import { HELD_RANGES_MAX, type HelloMessage } from './messages.js';

/**
 * Per replica, the ranges of held seqs in `ops` (ops above the vector: past a hole), or undefined when none.
 * `ops` as `opsSince` lists them: each replica's ops in ascending seq order (so no sort is needed).
 */
export function heldRanges(ops: readonly Op[]): Record<string, [number, number][]> | undefined {
  if (ops.length === 0) return undefined;
  const seqs = new Map<string, number[]>();
  for (const op of ops) {
    const list = seqs.get(op.replica);
    if (list === undefined) seqs.set(op.replica, [op.seq]);
    else list.push(op.seq);
  }
  const out: Record<string, [number, number][]> = {};
  for (const [replica, list] of seqs) {
    const ranges: [number, number][] = [];
    for (const seq of list) {
      const last = ranges[ranges.length - 1];
      if (last !== undefined && seq === last[1] + 1) last[1] = seq;
      else if (ranges.length < HELD_RANGES_MAX) ranges.push([seq, seq]);
      else break; // more holes than a hello can describe: the rest may come again, harmlessly
    }
    out[replica] = ranges;
  }
  return out;
}

/** True when the peer listed `op` among the ops it holds past its holes. */
export function isHeld(held: HelloMessage['heldPastGaps'], op: Op): boolean {
  return held?.[op.replica]?.some(([from, to]) => op.seq >= from && op.seq <= to) ?? false;
}

/** Ops sent to a peer (up to `sent` per replica) that its vector `theirs` does not show yet. */
export function opsAhead(sent: Readonly<Record<string, number>>, theirs: VersionVector): number {
  let ahead = 0;
  for (const [replica, seq] of Object.entries(sent)) ahead += Math.max(0, seq - (theirs[replica] ?? 0));
  return ahead;
}

/** True when `theirs` moved past the last confirmed vector on every replica we still have ops in flight for. */
export function streamsAdvanced(record: { readonly vv: Readonly<Record<string, number>>; readonly acked: VersionVector }, theirs: VersionVector): boolean {
  let streams = 0;
  for (const [replica, seq] of Object.entries(record.vv)) {
    const acked = record.acked[replica] ?? 0;
    if (seq <= acked) continue;
    streams += 1;
    if ((theirs[replica] ?? 0) <= acked) return false;
  }
  return streams > 0;
}
