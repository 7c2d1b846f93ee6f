/** Storage in memory: the default, and the reference every other adapter must match. */
import { ReplicaClosedError } from './errors.js';
import type { Op } from './op.js';
import type { Snapshot, Storage, StorageMeta, StoredLog } from './storage.js';
import { vvCovers } from './version-vector.js';

/** A {@link Storage} that keeps everything in memory. Survives `close` and reopen within one process. */
export class MemoryStorage implements Storage {
  private meta: StorageMeta | undefined;
  private snapshot: Snapshot | undefined;
  private batches: (readonly Op[])[] = [];
  private closed = false;

  /** Loads what was stored; reopening after `close` is allowed (the same object models the same medium). */
  async load(): Promise<StoredLog> {
    this.closed = false;
    return { meta: this.meta, snapshot: this.snapshot, batches: this.batches.slice() };
  }

  /** Appends a batch (ops are frozen, so keeping references is safe). */
  async append(batch: readonly Op[]): Promise<void> {
    this.assertOpen();
    this.batches.push(batch);
  }

  /** Replaces the snapshot and drops the batches it covers entirely. */
  async writeSnapshot(snapshot: Snapshot): Promise<void> {
    this.assertOpen();
    this.snapshot = snapshot;
    this.batches = this.batches.filter((batch) => batch.some((op) => !vvCovers(snapshot.base, op.replica, op.seq)));
  }

  /** Records the metadata. */
  async writeMeta(meta: StorageMeta): Promise<void> {
    this.assertOpen();
    this.meta = meta;
  }

  /** Marks the storage closed until the next `load`. */
  async close(): Promise<void> {
    this.closed = true;
  }

  /** Number of batches held (for tests and stats). */
  get batchCount(): number {
    return this.batches.length;
  }

  private assertOpen(): void {
    if (this.closed) throw new ReplicaClosedError('the storage is closed');
  }
}
