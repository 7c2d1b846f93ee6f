/**
 * Ops a session refused for now: stamped further ahead of our clock than `maxDriftMs` allows, or under replica ids a
 * peer introduced faster than its budget. Each refusal is kept as a seq range with the time it may be tried again
 * (never the ops themselves: a hostile peer cannot make us hold its data). Until then, hellos list the range among
 * the ops "not to send" (`gx`, like ops held past a hole), so an honest sender does not send it again and again;
 * after it, the range is dropped and the next answer brings it. Nothing else waits: the sender's other ops, later
 * ones of the same replica included, are merged as they come.
 */
import { HELD_RANGES_MAX } from './messages.js';

/** Most refused ranges remembered; past it the one retried last is forgotten (it may then be offered, and refused, again). */
export const REFUSED_RANGES_MAX = 1_024;

interface Refusal {
  from: number;
  to: number;
  /** Earliest scheduler time to try again: when the first op of the range becomes acceptable. */
  retryAtMs: number;
}

/** The ranges refused for now, per replica, ascending and disjoint. */
export class RefusedOps {
  private readonly byReplica = new Map<string, Refusal[]>();
  private count = 0;

  /** Number of ranges remembered. */
  get size(): number {
    return this.count;
  }

  /** Records that op (replica, seq) was refused until `retryAtMs`. */
  record(replica: string, seq: number, retryAtMs: number): void {
    let ranges = this.byReplica.get(replica);
    if (ranges === undefined) {
      ranges = [];
      this.byReplica.set(replica, ranges);
    }
    for (const range of ranges) {
      if (seq >= range.from - 1 && seq <= range.to + 1) {
        range.from = Math.min(range.from, seq);
        range.to = Math.max(range.to, seq);
        // The range is tried again as soon as its first op may pass: the rest is refused anew if still too early.
        range.retryAtMs = Math.min(range.retryAtMs, retryAtMs);
        return;
      }
    }
    ranges.push({ from: seq, to: seq, retryAtMs });
    ranges.sort((a, b) => a.from - b.from);
    this.count += 1;
    if (this.count > REFUSED_RANGES_MAX) this.forgetLatest();
  }

  /**
   * Per replica, the ranges still refused at `nowMs` above `vv` (what the hello's `gx` field adds), dropping the
   * expired ones. Undefined when there are none.
   */
  pending(nowMs: number, vv: Readonly<Record<string, number>>): Record<string, [number, number][]> | undefined {
    let out: Record<string, [number, number][]> | undefined;
    for (const [replica, ranges] of this.byReplica) {
      const floor = vv[replica] ?? 0;
      const kept = ranges.filter((range) => range.retryAtMs > nowMs && range.to > floor);
      this.count -= ranges.length - kept.length;
      if (kept.length === 0) {
        this.byReplica.delete(replica);
        continue;
      }
      this.byReplica.set(replica, kept);
      out ??= {};
      out[replica] = kept.map((range) => [Math.max(range.from, floor + 1), range.to]);
    }
    return out;
  }

  /** The earliest retry time of any range, or undefined. */
  nextRetryAtMs(): number | undefined {
    let next: number | undefined;
    for (const ranges of this.byReplica.values()) for (const range of ranges) if (next === undefined || range.retryAtMs < next) next = range.retryAtMs;
    return next;
  }

  private forgetLatest(): void {
    let latest: { replica: string; range: Refusal } | undefined;
    for (const [replica, ranges] of this.byReplica) for (const range of ranges) if (latest === undefined || range.retryAtMs > latest.range.retryAtMs) latest = { replica, range };
    if (latest === undefined) return;
    const ranges = this.byReplica.get(latest.replica) as Refusal[];
    ranges.splice(ranges.indexOf(latest.range), 1);
    if (ranges.length === 0) this.byReplica.delete(latest.replica);
    this.count -= 1;
  }
}

/**
 * Merges two sets of per-replica ascending ranges (ops held past holes, ops refused for now) into one that a hello's
 * `gx` field accepts: ascending, disjoint, above the vector, at most {@link HELD_RANGES_MAX} per replica (the
 * ranges past that are left out: those ops may be sent again, harmlessly).
 */
export function mergeRanges(
  a: Readonly<Record<string, readonly (readonly [number, number])[]>> | undefined,
  b: Readonly<Record<string, readonly (readonly [number, number])[]>> | undefined,
): Record<string, [number, number][]> | undefined {
  if (b === undefined) return a === undefined ? undefined : (a as Record<string, [number, number][]>);
  if (a === undefined) return b as Record<string, [number, number][]>;
  const out: Record<string, [number, number][]> = {};
  for (const replica of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const all = [...(a[replica] ?? []), ...(b[replica] ?? [])].sort((x, y) => x[0] - y[0]);
    const merged: [number, number][] = [];
    for (const [from, to] of all) {
      const last = merged[merged.length - 1];
      if (last !== undefined && from <= last[1] + 1) last[1] = Math.max(last[1], to);
      else if (merged.length < HELD_RANGES_MAX) merged.push([from, to]);
    }
    out[replica] = merged;
  }
  return out;
}
