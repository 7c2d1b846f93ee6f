/**
 * The oracle: what the simulator knows that no replica does. Every op ever
 * committed, which were acknowledged, what each write had observed of its key,
 * which ops a fault destroyed before they left their device, and any op id
 * used twice for different content.
 */
import { compareOps, type Op, opIdString } from '../../core/op.js';
import type { Violation } from '../result.js';

/** An acknowledged write and what its replica had seen of its key when it was issued. */
export interface AckedWrite {
  readonly op: Op;
  readonly node: number;
  readonly ackAtMs: number;
  /** The key's winning op at the writer when the write was issued, if any. */
  readonly observed: Op | undefined;
}

/** The oracle's records. */
export class History {
  /** Every op committed anywhere, by id (the first content seen). */
  readonly committed = new Map<string, Op>();
  readonly acked: AckedWrite[] = [];
  /**
   * Ops destroyed by a fault (storage damage, a stale restore, a wipe) while no other device held them, as
   * {@link opKey}s: an id re-created devices write again names several ops, of which only some were lost.
   */
  private readonly lost = new Set<string>();
  /** The ids of the lost ops: a cheap first test on every merged op, before building its key. */
  private readonly lostIds = new Set<string>();
  /**
   * Lost ops a device merged afterwards all the same (their frame was still in flight, or replayed): still lost
   * for the acked-writes checker (the copy that surfaced may die again unsynced), but their id is no longer free.
   */
  private readonly resurfaced = new Set<string>();
  /** Op ids committed twice with different content. */
  readonly reusedIds: string[] = [];
  /** True once a fault re-created a device under an id it had used (a raw stale restore, a same-id wipe): reuse is then expected, and must be detected. */
  reuseExpected = false;
  /** OP_ID_CONFLICT reports from sync sessions. */
  conflictsDetected = 0;
  /** Violations found during the run (the vv/state checker). */
  readonly violations: Violation[] = [];

  /**
   * Records ops a replica merged from a peer. An op swept as lost was still on its way (a frame in flight, or
   * replayed later): its id is not free to write again. And an op whose id the oracle knows with other content
   * is a reuse that happened, whichever version was written last.
   */
  recordMerged(ops: readonly Op[]): void {
    // Only lost ops and re-created devices make a merged op tell anything new; skip the look-ups otherwise.
    if (this.lost.size === 0 && !this.reuseExpected) return;
    for (const op of ops) {
      const id = opIdString(op);
      if (this.lostIds.has(id) && this.lost.has(opKey(op))) this.resurfaced.add(opKey(op));
      const known = this.committed.get(id);
      if (known !== undefined && !sameOp(known, op) && !this.reusedIds.includes(id)) this.reusedIds.push(id);
    }
  }

  /** True when `op` (this very op, not just its id) was destroyed with no other copy left. */
  isLost(op: Op): boolean {
    return this.lost.size > 0 && this.lostIds.has(opIdString(op)) && this.lost.has(opKey(op));
  }

  /** Records that `op` was destroyed and no device holds it. */
  markLost(op: Op): void {
    this.lost.add(opKey(op));
    this.lostIds.add(opIdString(op));
  }

  /** Records ops a replica committed locally. */
  recordCommitted(ops: readonly Op[]): void {
    for (const op of ops) {
      const id = opIdString(op);
      const known = this.committed.get(id);
      // An id whose op was destroyed before it left its device may be written again harmlessly (once: the id
      // then names the new op, and writing it yet again is reuse unless that one was lost too), unless the
      // destroyed op surfaced on another device after all.
      if (known === undefined || (this.isLost(known) && !this.resurfaced.has(opKey(known)))) this.committed.set(id, op);
      else if (!sameOp(known, op)) this.reusedIds.push(id);
    }
  }
}

/** One op's identity for the oracle: id, timestamp and key. */
function opKey(op: Op): string {
  return `${op.replica}:${op.seq}@${op.wall}.${op.logical}/${op.key}`;
}

/** The oracle's notion of one op: same id, timestamp and key (values follow from the writes). */
function sameOp(a: Op, b: Op): boolean {
  return compareOps(a, b) === 0 && a.key === b.key;
}
