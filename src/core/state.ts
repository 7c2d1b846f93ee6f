/**
 * The materialized state: the winning op of every key. Reads are served from
 * here, never by replaying the log.
 */
import type { JsonValue } from './json.js';
import { KeyIndex, type KeyRange } from './key-index.js';
import { compareOps, type Op } from './op.js';

export { compareKeys } from './key-index.js';

/** How one key's visible value changed when ops were merged. */
export interface KeyChange {
  /** The key. */
  readonly key: string;
  /** The visible value now (undefined when deleted). */
  readonly value: JsonValue | undefined;
  /** The visible value before (undefined when absent or deleted). */
  readonly previous: JsonValue | undefined;
  /** The op that now wins the key. */
  readonly op: Op;
}

/** Last-writer-wins map from key to winning op, tombstones included. */
export class MaterializedState {
  private readonly winners = new Map<string, Op>();
  private live = 0;
  /** Live keys in order; told only when a key gains or loses its value (an overwrite costs it nothing). */
  private readonly index = new KeyIndex(
    (key) => this.has(key),
    () => this.liveKeys(),
  );
  private warmedWins = 0;

  /** Number of keys with a visible value. */
  get size(): number {
    return this.live;
  }

  /** The winning op of a key, tombstone or not. */
  winner(key: string): Op | undefined {
    return this.winners.get(key);
  }

  /** The visible value of a key. */
  get(key: string): JsonValue | undefined {
    const op = this.winners.get(key);
    return op?.type === 'set' ? op.value : undefined;
  }

  /** True when the key has a visible value. */
  has(key: string): boolean {
    return this.winners.get(key)?.type === 'set';
  }

  /**
   * Merges one op. Returns true when it became the key's winner. Commutative,
   * associative and idempotent because the winner is a maximum in a total order.
   */
  apply(op: Op): boolean {
    const current = this.winners.get(op.key);
    if (current !== undefined && compareOps(op, current) <= 0) return false;
    const wasLive = current?.type === 'set';
    const isLive = op.type === 'set';
    this.winners.set(op.key, op);
    if (wasLive !== isLive) {
      this.live += isLive ? 1 : -1;
      this.index.touch(op.key);
    }
    return true;
  }

  /**
   * Looks up every entry `apply` would touch for `ops` and changes nothing. Run while a commit's
   * fsync is in flight, it takes the cache misses of a large map off the commit's critical path,
   * so the `apply` after it finds its entries warm. Returns how many of `ops` would win, each
   * compared with the current state alone (kept, so the look-ups are not optimized away).
   */
  warm(ops: readonly Op[]): number {
    let wins = 0;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as Op;
      const current = this.winners.get(op.key);
      if (current === undefined || compareOps(op, current) > 0) wins += 1;
    }
    this.warmedWins = wins;
    return wins;
  }

  /** What the last {@link MaterializedState.warm} returned. */
  get lastWarmWins(): number {
    return this.warmedWins;
  }

  /** Visible keys in `range`, in ascending order, at most `limit` of them (from the sorted index, not a scan). */
  keys(range: KeyRange = {}, limit?: number): string[] {
    return this.index.keys(range, limit);
  }

  /** Calls `visit` with each visible key in `range`, in order, until it returns false or `limit` keys were visited. */
  forEachKey(range: KeyRange, limit: number, visit: (key: string) => boolean | undefined): void {
    this.index.forEach(range, limit, visit);
  }

  private *liveKeys(): Iterable<string> {
    for (const [key, op] of this.winners) if (op.type === 'set') yield key;
  }

  /** Every winning op, tombstones included (for snapshots). */
  winnerOps(): Op[] {
    return [...this.winners.values()];
  }
}

/** Builds the LWW summary of any collection of ops: key -> winning op. */
export function winnersOf(ops: Iterable<Op>, into = new Map<string, Op>()): Map<string, Op> {
  for (const op of ops) {
    const current = into.get(op.key);
    if (current === undefined || compareOps(op, current) > 0) into.set(op.key, op);
  }
  return into;
}
