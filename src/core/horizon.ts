/**
 * The compaction horizon: what the log no longer holds op by op. Ops at or
 * below `base` survive only as the winning op of each key, which is all that
 * merge needs (a later op still beats them, an earlier one still loses).
 */
import { compareHlc, HLC_ZERO, type HlcTimestamp } from './hlc.js';
import type { Op } from './op.js';
import { winnersOf } from './state.js';
import type { Snapshot } from './storage.js';
import type { VersionVector } from './version-vector.js';

/** The LWW summary of every compacted op. */
export class Horizon {
  private map = new Map<string, Op>();
  /** Winners of a loaded snapshot not yet indexed: open leaves the map for the first reader to build. */
  private unindexed: readonly Op[] | undefined;
  private latest: HlcTimestamp = HLC_ZERO;

  /** The summary map, built on first use after a load (a million-key snapshot costs ~0.3 s to index). */
  private get winners(): Map<string, Op> {
    if (this.unindexed !== undefined) {
      winnersOf(this.unindexed, this.map);
      this.unindexed = undefined;
    }
    return this.map;
  }

  /** The highest timestamp among compacted ops: `stateAt` works from here on. */
  get clock(): HlcTimestamp {
    return this.latest;
  }

  /** The summarized winner of a key, if the key was ever written before the horizon. */
  winner(key: string): Op | undefined {
    return this.winners.get(key);
  }

  /** Every summarized winner, tombstones included. */
  winnerOps(): Op[] {
    return [...this.winners.values()];
  }

  /** A copy of the summary map, to fold more ops into without touching this one. */
  winnerMap(): Map<string, Op> {
    return new Map(this.winners);
  }

  /** Restores the summary from a stored snapshot. */
  load(snapshot: Snapshot): void {
    this.map = new Map();
    this.unindexed = snapshot.winners;
    this.latest = snapshot.clock;
  }

  /** Computes the snapshot the horizon would have after also folding in `ops`, without changing it. */
  preview(ops: readonly Op[], base: VersionVector): Snapshot {
    const winners = winnersOf(ops, this.winnerMap());
    return { base, clock: maxClock(this.latest, ops), winners: [...winners.values()] };
  }

  /** Folds `ops` into the summary. */
  absorb(ops: readonly Op[]): void {
    winnersOf(ops, this.winners);
    this.latest = maxClock(this.latest, ops);
  }
}

function maxClock(start: HlcTimestamp, ops: readonly Op[]): HlcTimestamp {
  let latest = start;
  for (const op of ops) if (compareHlc(op, latest) > 0) latest = { wall: op.wall, logical: op.logical };
  return latest;
}
