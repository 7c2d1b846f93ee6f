/**
 * The storage contract. Small and asynchronous on purpose: memory, a file log
 * (Node) and IndexedDB (browser) implement it, and the simulator wraps it to
 * inject faults. The core never touches a medium except through this.
 */
import type { HlcTimestamp } from './hlc.js';
import type { Op } from './op.js';
import type { VersionVector } from './version-vector.js';

/** What a database remembers about itself, apart from its ops. */
export interface StorageMeta {
  /** The replica id this database writes under; fixed at creation. */
  readonly replicaId: string;
}

/**
 * A compacted prefix of the log: for every op at or below `base`, only the
 * winning op of each key (tombstones included) is kept.
 */
export interface Snapshot {
  /** Every op (replica, seq) with seq <= base[replica] is summarized here. */
  readonly base: VersionVector;
  /** The highest timestamp among the summarized ops. */
  readonly clock: HlcTimestamp;
  /** The winning op of each key among the summarized ops. */
  readonly winners: readonly Op[];
}

/** Everything `load` returns: enough to rebuild a replica. */
export interface StoredLog {
  /** The database's metadata, absent for a new database. */
  readonly meta: StorageMeta | undefined;
  /** The newest valid snapshot, if one was written. */
  readonly snapshot: Snapshot | undefined;
  /**
   * Every batch appended and not yet dropped by a snapshot, in append order.
   * Batches may contain ops the snapshot already covers; the core skips them.
   */
  readonly batches: AsyncIterable<readonly Op[]> | Iterable<readonly Op[]>;
  /**
   * True when recovery cut records off the end of the log. Those ops may already have
   * reached peers (a relaxed sync mode, or a synced record damaged later), so the
   * replica must not write their sequence numbers again: it takes a new replica id.
   */
  readonly tailLost?: boolean;
}

/** A durable home for one replica's log. */
export interface Storage {
  /** Reads the whole stored log back (and, for real media, recovers it). Called once, before anything else. */
  load(): Promise<StoredLog>;
  /**
   * Appends one batch atomically: after a crash all of its ops are there or none is.
   * Resolves once the batch is durable under the adapter's policy. The core never
   * calls it again before the previous call settled.
   */
  append(batch: readonly Op[]): Promise<void>;
  /** Replaces the snapshot atomically; may then drop batches whose ops it all covers. */
  writeSnapshot(snapshot: Snapshot): Promise<void>;
  /** Records the metadata (once, when a database is created). */
  writeMeta(meta: StorageMeta): Promise<void>;
  /**
   * True when `append`, after taking its batch, waits on a device (an fsync on another thread):
   * the core then does the commit's read-only preparation (looking up what it will change) while
   * that runs, instead of after. Nothing is changed before the append resolves. Absent means false.
   */
  readonly appendWaitsOnDevice?: boolean;
  /** Releases the medium. Further calls fail. */
  close(): Promise<void>;
}
