/**
 * The oracle: what the simulator knows that no replica does. Every op ever
 * committed, which were acknowledged, what each write had observed of its key,
 * which ops a fault destroyed before they left their device, and any op id
 * used twice for different content.
 */
import { compareOps, type Op, opIdString } from '../core/op.js';

/** An acknowledged write and what its replica had seen of its key when it was issued. */
export interface AckedWrite {
  readonly op: Op;
  readonly node: number;
  readonly ackAtMs: number;
  /** The key's winning op at the writer when the write was issued, if any. */
  readonly observed: Op | undefined;
}

/** A violation of an invariant. */
export interface Violation {
  /** The checker that found it (file name under `checkers/`). */
  readonly checker: string;
  readonly message: string;
  /** Virtual time it was found, ms. */
  readonly atMs: number;
  /** Trace lines just before it, when found during the run. */
  readonly excerpt?: readonly string[];
}

/** The oracle's records. */
export class History {
  /** Every op committed anywhere, by id (the first content seen). */
  readonly committed = new Map<string, Op>();
  readonly acked: AckedWrite[] = [];
  /** Op ids destroyed by a fault (storage damage, a stale restore, a wipe) while no other device held them. */
  readonly lost = new Set<string>();
  /** Op ids committed twice with different content. */
  readonly reusedIds: string[] = [];
  /** True once a fault re-created a device under an id it had used (a raw stale restore, a same-id wipe): reuse is then expected, and must be detected. */
  reuseExpected = false;
  /** OP_ID_CONFLICT reports from sync sessions. */
  conflictsDetected = 0;
  /** Violations found during the run (the vv/state checker). */
  readonly violations: Violation[] = [];

  /** Records ops a replica committed locally. */
  recordCommitted(ops: readonly Op[]): void {
    for (const op of ops) {
      const id = opIdString(op);
      const known = this.committed.get(id);
      // An id whose op was destroyed before it left its device may be written again harmlessly.
      if (known === undefined || this.lost.has(id)) this.committed.set(id, op);
      else if (compareOps(known, op) !== 0 || known.key !== op.key) this.reusedIds.push(id);
    }
  }
}
