/**
 * Simulated storage with faults. A `SimMedium` is the device's disk: framed,
 * checksummed records (`[length u32][crc32 u32][op batch]`) of which only the
 * synced ones survive a crash; the last unsynced one may be left torn. Bit
 * flips damage synced records; `load` verifies every record and keeps only the
 * valid prefix, so damaged bytes are detected and never applied.
 */
import { decodeOps, encodeOps } from '../core/codec.js';
import type { Op } from '../core/op.js';
import { opIdString } from '../core/op.js';
import type { Snapshot, Storage, StorageMeta, StoredLog } from '../core/storage.js';
import { vvCovers } from '../core/version-vector.js';
import type { Prng } from './prng.js';

const HEADER_BYTES = 8;

/**
 * Records already verified and decoded, by identity. Records are immutable
 * except through {@link SimMedium.flipBit}, which evicts the record it damages,
 * so a restart re-verifies exactly the bytes that could have changed.
 */
const verifiedRecords = new WeakMap<Uint8Array, Op[]>();

interface PendingRecord {
  readonly bytes: Uint8Array;
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
  records: Uint8Array[] = [];
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

  /** A copy of the synced state (a backup taken now). */
  clone(): SimMedium {
    const copy = new SimMedium();
    copy.records = this.records.map((record) => record.slice());
    copy.recordOpIds = this.recordOpIds.slice();
    copy.snapshot = this.snapshot;
    copy.meta = this.meta;
    return copy;
  }

  /** Loses power: unsynced records are lost, the first one possibly written partly (torn). */
  crash(torn: boolean, prng: Prng): void {
    this.epoch += 1;
    const first = this.pending[0];
    if (torn && first !== undefined) {
      this.records.push(first.bytes.slice(0, prng.range(1, first.bytes.length - 1)));
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
    if (this.records.length === 0) return false;
    const record = this.records[prng.int(this.records.length)] as Uint8Array;
    if (record.length === 0) return false;
    verifiedRecords.delete(record);
    const at = prng.int(record.length);
    record[at] = (record[at] as number) ^ (1 << prng.int(8));
    return true;
  }

  /** Verifies every record, truncates at the first bad one (a repair), and returns the batches before it. */
  recover(): { batches: Op[][]; report: RecoveryReport } {
    const cached = this.verified;
    this.verified = undefined;
    if (cached !== undefined && cached.count === this.records.length) return { batches: cached.batches, report: { droppedRecords: 0, droppedOpIds: [], reason: 'none' } };
    const batches: Op[][] = [];
    for (let i = 0; i < this.records.length; i++) {
      const record = this.records[i] as Uint8Array;
      let batch = verifiedRecords.get(record);
      const reason = batch === undefined ? verify(record) : 'none';
      if (batch === undefined && reason === 'none') {
        try {
          batch = decodeOps(record.subarray(HEADER_BYTES));
          verifiedRecords.set(record, batch);
        } catch {
          batch = undefined;
        }
      }
      if (batch === undefined) {
        const droppedOpIds = this.recordOpIds.slice(i).flat();
        const droppedRecords = this.records.length - i;
        this.records = this.records.slice(0, i);
        this.recordOpIds = this.recordOpIds.slice(0, i);
        this.verified = { count: this.records.length, batches };
        return { batches, report: { droppedRecords, droppedOpIds, reason: reason === 'none' ? 'decode' : reason } };
      }
      batches.push(batch);
    }
    this.verified = { count: this.records.length, batches };
    return { batches, report: { droppedRecords: 0, droppedOpIds: [], reason: 'none' } };
  }
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
    const payload = encodeOps(batch);
    const bytes = new Uint8Array(HEADER_BYTES + payload.length);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, payload.length);
    view.setUint32(4, crc32(payload));
    bytes.set(payload, HEADER_BYTES);
    const record: PendingRecord = { bytes, opIds: batch.map(opIdString) };
    this.medium.pending.push(record);
    return new Promise((resolve) => {
      if (this.hooks.ackBeforeSync) resolve();
      this.hooks.afterFsync(() => {
        if (this.medium.epoch !== this.epoch) return; // crashed meanwhile: the write never became durable
        const index = this.medium.pending.indexOf(record);
        if (index < 0) return;
        this.medium.pending.splice(index, 1);
        this.medium.touch();
        this.medium.records.push(bytes);
        this.medium.recordOpIds.push(record.opIds);
        resolve();
      });
    });
  }

  /** Replaces the snapshot atomically (write-then-rename) and drops the records it covers. */
  async writeSnapshot(snapshot: Snapshot): Promise<void> {
    if (this.medium.epoch !== this.epoch) return new Promise(() => {}); // a dead process writes nothing
    this.medium.touch();
    this.medium.snapshot = snapshot;
    const keep = this.medium.recordOpIds.map((ids) => ids.some((id) => !coveredId(snapshot, id)));
    this.medium.records = this.medium.records.filter((_, i) => keep[i]);
    this.medium.recordOpIds = this.medium.recordOpIds.filter((_, i) => keep[i]);
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
  return crc32(record.subarray(HEADER_BYTES)) === view.getUint32(4) ? 'none' : 'checksum';
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = (CRC_TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
