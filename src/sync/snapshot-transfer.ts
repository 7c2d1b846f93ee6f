/**
 * Snapshot transfers: how a peer behind our compaction horizon gets the summary under it. The sender cuts the
 * summary into parts once per horizon (stable ids and parts, so a lost part is filled in by the next
 * retransmission); the receiver buffers one transfer per peer and applies it only when every part is in, so a
 * lost or reordered part never leaves a hole below the adopted horizon.
 */
import { encodeOps } from '../core/codec.js';
import { compareOps, type Op } from '../core/op.js';
import type { Replica } from '../core/replica.js';
import { type VersionVector, vvCovers, vvEqual } from '../core/version-vector.js';
import type { SnapshotMessage } from './messages.js';

/** A transfer being received from one peer: the parts so far. */
export interface PendingTransfer {
  readonly transferId: number;
  readonly horizon: VersionVector;
  readonly parts: (readonly Op[] | undefined)[];
  received: number;
}

/** The summary of one horizon, cut into parts. */
export interface SnapshotParts {
  /** The horizon, canonically serialized. */
  readonly key: string;
  /** Identifies this transfer among the sender's. */
  readonly transferId: number;
  readonly chunks: readonly Op[][];
}

/**
 * Adds a received part to the peer's buffered transfer (`holder.transfer`), and returns the whole summary with
 * its horizon once the last part arrived (the buffer is then cleared).
 */
export function addSnapshotPart(holder: { transfer: PendingTransfer | undefined }, message: SnapshotMessage): { readonly ops: Op[]; readonly horizon: VersionVector } | undefined {
  let transfer = holder.transfer;
  // A newer transfer replaces an unfinished one: at most one buffered per peer. Transfer ids restart when the
  // sender restarts, so a part joins the buffered transfer only if its horizon matches too: parts of two
  // summaries mixed would adopt a horizon without some of its winners (soak seeds 10233 and 10285).
  if (transfer === undefined || transfer.transferId !== message.transferId || transfer.parts.length !== message.parts || !vvEqual(transfer.horizon, message.horizon)) {
    transfer = { transferId: message.transferId, horizon: message.horizon, parts: new Array(message.parts).fill(undefined), received: 0 };
    holder.transfer = transfer;
  }
  if (transfer.parts[message.part] !== undefined) return undefined;
  transfer.parts[message.part] = message.ops;
  transfer.received += 1;
  if (transfer.received < transfer.parts.length) return undefined;
  holder.transfer = undefined;
  return { ops: transfer.parts.flatMap((part) => part as readonly Op[]), horizon: transfer.horizon };
}

/** Cuts a replica's compaction summary into transfer parts, once per horizon. */
export class SnapshotCutter {
  private cache: SnapshotParts | undefined;
  private nextTransferId = 0;

  constructor(
    private readonly batchOpsMax: number,
    private readonly batchBytesMax: number,
  ) {}

  /** The summary of `replica` under `horizon` in parts (at least one, possibly empty). */
  partsFor(replica: Replica, horizon: VersionVector): SnapshotParts {
    const key = JSON.stringify(Object.entries(horizon).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    if (this.cache?.key === key) return this.cache;
    // In merge order, so one horizon always yields the same parts: a receiver may hold parts sent by an earlier
    // incarnation of this replica (transfer ids restart with the session), and parts of equal ids, counts and
    // horizons must then be interchangeable.
    const summary = replica
      .opsSince({})
      .filter((op) => vvCovers(horizon, op.replica, op.seq))
      .sort(compareOps);
    const chunks = this.chunk(summary);
    if (chunks.length === 0) chunks.push([]);
    this.cache = { key, transferId: this.nextTransferId++, chunks };
    return this.cache;
  }

  /** Splits ops into batches bounded by `batchOpsMax` and `batchBytesMax` (halving until each fits). */
  private chunk(ops: readonly Op[]): Op[][] {
    const out: Op[][] = [];
    for (let start = 0; start < ops.length; start += this.batchOpsMax) this.split(ops.slice(start, start + this.batchOpsMax), out);
    return out;
  }

  private split(batch: Op[], out: Op[][]): void {
    if (batch.length > 1 && encodeOps(batch).length > this.batchBytesMax) {
      const half = batch.length >>> 1;
      this.split(batch.slice(0, half), out);
      this.split(batch.slice(half), out);
      return;
    }
    out.push(batch);
  }
}
