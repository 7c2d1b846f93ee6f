/**
 * Simulated storage with faults. A `SimMedium` is the device's disk: framed,
 * checksummed records (`[length u32][crc32c u32][op batch]`) of which only the
 * synced ones survive a crash; the last unsynced one may be left torn. Bit
 * flips damage synced records; `load` verifies every record and keeps only the
 * valid prefix, so damaged bytes are detected and never applied.
 */
import { crc32c } from '../../core/crc32c.js';
import { decodeOps, encodeOps } from '../../core/codec.js';
import type { Op } from '../../core/op.js';
import { opIdString } from '../../core/op.js';
import type { Snapshot, Storage, StorageMeta, StoredLog } from '../../core/storage.js';
import { vvCovers } from '../../core/version-vector.js';
import type { Prng } from '../prng.js';

const HEADER_BYTES = 8;

/**
 * One record on the medium. Its bytes are encoded only when something needs them (a backup's torn write, a
 * bit flip, a caller reading {@link SimMedium.records}): most records are written and recovered intact, and
 * encoding plus checksumming each of them cost a large share of a run. `ops` set means the record is intact
 * (its bytes, once encoded, decode to exactly these ops); damage clears it, so recovery verifies those bytes.
 */
interface StoredRecord {
  bytes: Uint8Array | undefined;
  ops: readonly Op[] | undefined;
}

interface PendingRecord {
  readonly ops: readonly Op[];
  readonly opIds: readonly string[];
}

/** What recovery found when a medium was loaded. */
export interface RecoveryReport {
  /** Records dropped from the first bad one on. */
  readonly droppedRecords: number;
  /** Op ids those records held (oracle knowledge, for the acked-write checker). */
  readonly droppedOpIds: readonly string[];
  /** Why the first dropped record was bad. */
  readonly reason: 'none' | 'torn' | 'checksum' | 'decode';
}

/** A simulated disk. */
export class SimMedium {
  /** Synced records. */
  private stored: StoredRecord[] = [];
  /** Oracle: the op ids of each synced record (never read by recovery). */
  recordOpIds: (readonly string[])[] = [];
  snapshot: Snapshot | undefined;
  meta: StorageMeta | undefined;
  /** Appends written but not synced yet. */
  pending: PendingRecord[] = [];
  /** Bumped on crash: syncs scheduled before it are void. */
  epoch = 0;
  /** The last recovery's batches, while the records are unchanged since (saves a second verify on restart). */
  private verified: { count: number; batches: Op[][] } | undefined;

  /**
   * The synced records as raw bytes (`[length u32][crc32c u32][op batch]`), for tests that damage them by hand.
   * Reading them exposes the bytes to change, so recovery verifies every one of them afterwards.
   */
  get records(): Uint8Array[] {
    this.touch();
    return this.stored.map((record) => {
      const bytes = bytesOf(record);
      record.ops = undefined;
      return bytes;
    });
  }

  /** A copy of the synced state (a backup taken now). */
  clone(): SimMedium {
    const copy = new SimMedium();
    copy.stored = this.stored.map((record) => ({ bytes: record.bytes?.slice(), ops: record.ops }));
    copy.recordOpIds = this.recordOpIds.slice();
    copy.snapshot = this.snapshot;
    copy.meta = this.meta;
    return copy;
  }

  /** Makes a synced record of `ops` (the fsync of an append landed). */
  sync(ops: readonly Op[], opIds: readonly string[]): void {
    this.touch();
    this.stored.push({ bytes: undefined, ops });
    this.recordOpIds.push(opIds);
  }

  /** Loses power: unsynced records are lost, the first one possibly written partly (torn). */
  crash(torn: boolean, prng: Prng): void {
    this.epoch += 1;
    const first = this.pending[0];
    if (torn && first !== undefined) {
      const bytes = encodeRecord(first.ops);
      this.stored.push({ bytes: bytes.slice(0, prng.range(1, bytes.length - 1)), ops: undefined });
      this.recordOpIds.push(first.opIds);
    }
    this.pending = [];
  }

  /** Forgets the cached verification: the records changed. */
  touch(): void {
    this.verified = undefined;
  }

  /** Flips one random bit of one random synced record; false when there is none. */
  flipBit(prng: Prng): boolean {
    this.touch();
    if (this.stored.length === 0) return false;
    const stored = this.stored[prng.int(this.stored.length)] as StoredRecord;
    const record = bytesOf(stored);
    if (record.length === 0) return false;
    stored.ops = undefined;
    const at = prng.int(record.length);
    record[at] = (record[at] as number) ^ (1 << prng.int(8));
    return true;
  }

  /** Keeps the synced records `keep` says to keep (a snapshot replaced the others). */
  filter(keep: (opIds: readonly string[]) => boolean): void {
    this.touch();
    const flags = this.recordOpIds.map(keep);
    this.stored = this.stored.filter((_, i) => flags[i]);
    this.recordOpIds = this.recordOpIds.filter((_, i) => flags[i]);
  }

  /** Verifies every record, truncates at the first bad one (a repair), and returns the batches before it. */
  recover(): { batches: Op[][]; report: RecoveryReport } {
    const cached = this.verified;
    this.verified = undefined;
    if (cached !== undefined && cached.count === this.stored.length) return { batches: cached.batches, report: { droppedRecords: 0, droppedOpIds: [], reason: 'none' } };
    const batches: Op[][] = [];
    for (let i = 0; i < this.stored.length; i++) {
      const stored = this.stored[i] as StoredRecord;
      let batch = stored.ops as Op[] | undefined;
      const reason = batch === undefined ? verify(stored.bytes as Uint8Array) : 'none';
      if (batch === undefined && reason === 'none') {
        try {
          batch = decodeOps((stored.bytes as Uint8Array).subarray(HEADER_BYTES));
          stored.ops = batch;
        } catch {
          batch = undefined;
        }
      }
      if (batch === undefined) {
        const droppedOpIds = this.recordOpIds.slice(i).flat();
        const droppedRecords = this.stored.length - i;
        this.stored = this.stored.slice(0, i);
        this.recordOpIds = this.recordOpIds.slice(0, i);
        this.verified = { count: this.stored.length, batches };
        return { batches, report: { droppedRecords, droppedOpIds, reason: reason === 'none' ? 'decode' : reason } };
      }
      batches.push(batch);
    }
    this.verified = { count: this.stored.length, batches };
    return { batches, report: { droppedRecords: 0, droppedOpIds: [], reason: 'none' } };
  }
}

/** The record's bytes, encoded now if they were not yet. */
function bytesOf(record: StoredRecord): Uint8Array {
  if (record.bytes === undefined) record.bytes = encodeRecord(record.ops as readonly Op[]);
  return record.bytes;
}

/** `[length u32][crc32c u32][op batch]`. */
function encodeRecord(ops: readonly Op[]): Uint8Array {
  const payload = encodeOps(ops);
  const bytes = new Uint8Array(HEADER_BYTES + payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, payload.length);
  view.setUint32(4, crc32c(payload));
  bytes.set(payload, HEADER_BYTES);
  return bytes;
}

/** Hooks the simulator gives a {@link SimStorage}. */
export interface SimStorageHooks {
  /** Schedules `callback` after the fsync latency (virtual time). */
  readonly afterFsync: (callback: () => void) => void;
  /** The deliberate bug that acknowledges before the sync. */
  readonly ackBeforeSync: boolean;
}

/** The `Storage` a simulated replica writes to: one medium, one life (a crash ends it). */
export class SimStorage implements Storage {
  /** Filled by `load`. */
  recovery: RecoveryReport = { droppedRecords: 0, droppedOpIds: [], reason: 'none' };
  private readonly epoch: number;

  constructor(
    private readonly medium: SimMedium,
    private readonly hooks: SimStorageHooks,
  ) {
    this.epoch = medium.epoch;
  }

  /** Recovers the medium. */
  async load(): Promise<StoredLog> {
    const { batches, report } = this.medium.recover();
    this.recovery = report;
    return { meta: this.medium.meta, snapshot: this.medium.snapshot, batches };
  }

  /** Writes the record now; it becomes durable (and the promise resolves) after the simulated fsync. */
  append(batch: readonly Op[]): Promise<void> {
    // A copy: the caller's array is not ours to keep. Its ops are immutable; their bytes are encoded when needed.
    const record: PendingRecord = { ops: batch.slice(), opIds: batch.map(opIdString) };
    this.medium.pending.push(record);
    return new Promise((resolve) => {
      if (this.hooks.ackBeforeSync) resolve();
      this.hooks.afterFsync(() => {
        if (this.medium.epoch !== this.epoch) return; // crashed meanwhile: the write never became durable
        const index = this.medium.pending.indexOf(record);
        if (index < 0) return;
        this.medium.pending.splice(index, 1);
        this.medium.sync(record.ops, record.opIds);
        resolve();
      });
    });
  }

  /** Replaces the snapshot atomically (write-then-rename) and drops the records it covers. */
  async writeSnapshot(snapshot: Snapshot): Promise<void> {
    if (this.medium.epoch !== this.epoch) return new Promise(() => {}); // a dead process writes nothing
    this.medium.snapshot = snapshot;
    this.medium.filter((ids) => ids.some((id) => !coveredId(snapshot, id)));
  }

  /** Records the metadata. */
  async writeMeta(meta: StorageMeta): Promise<void> {
    this.medium.meta = meta;
  }

  /** Nothing to release. */
  async close(): Promise<void> {}
}

function coveredId(snapshot: Snapshot, id: string): boolean {
  const colon = id.lastIndexOf(':');
  return vvCovers(snapshot.base, id.slice(0, colon), Number(id.slice(colon + 1)));
}

function verify(record: Uint8Array): RecoveryReport['reason'] {
  if (record.length < HEADER_BYTES) return 'torn';
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const length = view.getUint32(0);
  if (record.length !== HEADER_BYTES + length) return record.length < HEADER_BYTES + length ? 'torn' : 'checksum';
  return crc32c(record.subarray(HEADER_BYTES)) === view.getUint32(4) ? 'none' : 'checksum';
}
