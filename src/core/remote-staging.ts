/**
 * Remote staging: which ops of a batch from a peer are new, which are harmless duplicates, which wait for a later
 * sync, and whether the batch proves an op id was reused (then it is refused whole). Reads the log; changes nothing:
 * the commit pipeline applies what this returns.
 */
import { ForgedOwnOpError, OpIdConflictError } from './errors.js';
import type { Horizon } from './horizon.js';
import { jsonEqual } from './json.js';
import { compareOps, type Op, opIdString, sameOpContent } from './op.js';
import type { OpLog } from './oplog.js';
import { type VersionVector, vvCovers } from './version-vector.js';

/** How far past a replica's contiguous prefix a remote op may land before it is deferred to a later sync. */
export const SEQ_GAP_MAX = 1 << 20;

/** Ops by id (replica, seq) without building an id string per op: staging runs once per merged op. */
export class OpIdMap {
  private readonly byReplica = new Map<string, Map<number, Op>>();

  /** The op staged under (replica, seq), if any. */
  get(replica: string, seq: number): Op | undefined {
    return this.byReplica.get(replica)?.get(seq);
  }

  /** Stages `op` under its id. */
  set(op: Op): void {
    let seqs = this.byReplica.get(op.replica);
    if (seqs === undefined) {
      seqs = new Map();
      this.byReplica.set(op.replica, seqs);
    }
    seqs.set(op.seq, op);
  }
}

/** One remote batch to stage: its ops, the sender's horizon when they came from behind it, and whether they are its whole summary. */
export interface RemoteBatch {
  readonly ops: readonly Op[];
  readonly horizon: VersionVector | undefined;
  readonly completeSummary: boolean;
}

/** The staging replica's own id and the highest seq it has written under it. */
export interface OwnId {
  readonly id: string;
  readonly seq: number;
}

/**
 * Picks the new ops of a remote batch, rejecting it whole if any id conflicts. `staged` holds the ops of earlier
 * intents of the same commit group (not yet in the log); `deferred` counts ops left for a later sync. `own` is the
 * receiver's identity: an op under it that the receiver does not hold was never written here (forged, or written
 * by an earlier device under the same id), and a horizon claiming more of its ops than it wrote is forged too.
 * @throws OpIdConflictError when an op id of the batch is already held (or staged, or summarized) with other content.
 * @throws ForgedOwnOpError for an op, or a horizon, under the receiver's own id that it never wrote.
 */
export function stageRemote(log: OpLog, summary: Horizon, batch: RemoteBatch, staged: OpIdMap | undefined, deferred: { count: number }, own: OwnId): Op[] {
  const { ops, horizon } = batch;
  if (horizon !== undefined) {
    const claimed = horizon[own.id] ?? 0;
    if (claimed > own.seq) {
      throw new ForgedOwnOpError(`the sender's compaction horizon claims ops of this replica (${own.id}) up to seq ${claimed}, but it wrote only ${own.seq}`, { replica: own.id, seq: own.seq + 1, claimed });
    }
    checkHeldUnderHorizon(log, ops, horizon, batch.completeSummary);
  }
  const fresh: Op[] = [];
  // An op above the highest seq this batch already accepted from its replica cannot repeat one of them, so
  // the in-batch index is built only when a batch steps back in seq order (opsSince sends ascending seqs).
  const highest = new Map<string, number>();
  let mine: OpIdMap | undefined;
  for (const op of ops) {
    let known = log.get(op.replica, op.seq) ?? staged?.get(op.replica, op.seq);
    if (known === undefined && op.seq <= (highest.get(op.replica) ?? 0)) {
      if (mine === undefined) {
        mine = new OpIdMap();
        for (const accepted of fresh) mine.set(accepted);
      }
      known = mine.get(op.replica, op.seq);
    }
    if (known !== undefined) {
      if (!sameOpContent(known, op, jsonEqual)) throw conflictOf(op, own);
      continue;
    }
    if (log.has(op.replica, op.seq)) {
      // Compacted: already folded into the snapshot. When the op's id is its key's summarized winner, compare too.
      const winner = summary.winner(op.key);
      if (winner !== undefined && winner.seq === op.seq && winner.replica === op.replica && !sameOpContent(winner, op, jsonEqual)) throw conflictOf(op, own);
      continue;
    }
    if (op.replica === own.id) {
      throw new ForgedOwnOpError(`op ${opIdString(op)} is under this replica's own id, but it never wrote it (it wrote ${own.seq} ops): forged by a peer, or written by an earlier device under this id`, {
        replica: op.replica,
        seq: op.seq,
        wall: op.wall,
      });
    }
    // Ops under the sender's horizon are its compacted summary: the gap before them closes when the horizon is adopted.
    const summarized = horizon !== undefined && vvCovers(horizon, op.replica, op.seq);
    if (!summarized && op.seq > (log.heldRange(op.replica)?.contiguous ?? 0) + SEQ_GAP_MAX) {
      deferred.count += 1;
      continue;
    }
    mine?.set(op);
    if (op.seq > (highest.get(op.replica) ?? 0)) highest.set(op.replica, op.seq);
    fresh.push(op);
  }
  // This batch's ids reach `staged` only once the whole batch is accepted: a rejected batch must not
  // make a later batch of the same group look like a duplicate (or a conflict) of ops never applied.
  if (staged !== undefined) for (const op of fresh) staged.set(op);
  return fresh;
}

function conflictOf(op: Op, own: OwnId): OpIdConflictError {
  const mine = op.replica === own.id;
  return new OpIdConflictError(
    `op id ${opIdString(op)} was already used for a different op: replica ${op.replica} reused sequence numbers (restored from a stale backup?${mine ? ' This is our own id: forged by a peer, or written by an earlier device under it' : ''})`,
    { replica: op.replica, seq: op.seq, ...(mine ? { own: true } : {}) },
  );
}

/**
 * A horizon says the sender folded every op under it into its summary, so each op held here one by one
 * under that horizon must be, or lose to, the sender's winner for its key. One that would beat it is not
 * the op the sender folded under that id: the id was reused (a device re-created under its old id, a raw
 * restore) and the sender compacted the original away, where the per-op id check can no longer see it.
 * Legitimately the sender's winner for a key is the maximum over every op it folded, the held op included,
 * so this never fires for ops that are the same on both sides. A key with no winner in the batch proves
 * something only when the batch is the whole summary (`complete`): `opsSince(vector)` leaves out winners
 * the receiver already holds, the held op itself among them.
 * @throws OpIdConflictError naming the first such op.
 */
function checkHeldUnderHorizon(log: OpLog, ops: readonly Op[], horizon: VersionVector, complete: boolean): void {
  const base = log.base();
  let summary: Map<string, Op> | undefined;
  for (const replica of Object.keys(horizon)) {
    const top = Math.min(horizon[replica] as number, log.maxSeq(replica));
    for (let seq = (base[replica] ?? 0) + 1; seq <= top; seq++) {
      const held = log.get(replica, seq);
      if (held === undefined) continue;
      if (summary === undefined) {
        summary = new Map();
        for (const op of ops) {
          if (!vvCovers(horizon, op.replica, op.seq)) continue;
          const current = summary.get(op.key);
          if (current === undefined || compareOps(op, current) > 0) summary.set(op.key, op);
        }
      }
      const winner = summary.get(held.key);
      if (winner === undefined ? !complete : compareOps(winner, held) >= 0) continue;
      throw new OpIdConflictError(
        `op id ${opIdString(held)} is held here, but the sender's compaction summary, which covers it, has ${winner === undefined ? 'no op for its key' : 'an older winner for its key'}: replica ${replica} reused sequence numbers (restored from a stale backup, or re-created under its old id?)`,
        { replica, seq },
      );
    }
  }
}
