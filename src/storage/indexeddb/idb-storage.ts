/**
 * `IndexedDbStorage`: the core's {@link Storage} on IndexedDB, for browsers.
 * Three object stores: `batches` (one encoded batch per commit, keyed by a
 * commit sequence number, so key order is commit order), `snapshots` (the
 * current snapshot) and `meta`. Every commit is one IndexedDB transaction, so
 * it lands whole or not at all. No `node:` imports: safe in the main entry.
 */
import { decodeOps, encodeOps } from '../../core/codec.js';
import { InvalidArgumentError, ReplicaClosedError, StorageCorruptError } from '../../core/errors.js';
import type { Op } from '../../core/op.js';
import type { Snapshot, Storage, StorageMeta, StoredLog } from '../../core/storage.js';
import { decodeMeta, decodeSnapshotPayload, encodeMeta, encodeSnapshotPayload } from '../snapshot-codec.js';
import { requestResult, transactionDone } from './request.js';
import { acquireExclusive, type LockManagerLike, platformLocks } from './web-lock.js';

const DB_VERSION = 1;
const BATCHES = 'batches';
const SNAPSHOTS = 'snapshots';
const META = 'meta';
const CURRENT = 'current';

/** Options of {@link IndexedDbStorage.open}. */
export interface IndexedDbStorageOptions {
  /** The IndexedDB factory; `globalThis.indexedDB` by default (pass fake-indexeddb's in tests). */
  readonly factory?: IDBFactory;
  /**
   * `strict` (default) asks the browser to flush each commit to disk before it
   * reports completion; `relaxed` lets it report once the write reached the OS.
   */
  readonly durability?: 'strict' | 'relaxed';
  /**
   * Cross-tab lock: `navigator.locks` by default where the platform has it; `null` opts out (the caller
   * guarantees a single writer). Without a lock manager there is no cross-tab protection.
   */
  readonly locks?: LockManagerLike | null;
  /** How long to wait for another tab's lock before failing with `StorageLockedError` (default 3,000 ms). */
  readonly lockWaitMs?: number;
}

/** Highest seq per replica in a batch: when a snapshot covers all of them, the batch can go. */
type Coverage = { readonly key: number; readonly maxSeq: Map<string, number> };

function coverageOf(key: number, ops: readonly Op[]): Coverage {
  const maxSeq = new Map<string, number>();
  for (const op of ops) if (op.seq > (maxSeq.get(op.replica) ?? 0)) maxSeq.set(op.replica, op.seq);
  return { key, maxSeq };
}

/** A {@link Storage} on one IndexedDB database. */
export class IndexedDbStorage implements Storage {
  private nextKey = 1;
  private coverage: Coverage[] = [];
  private closed = false;
  private loaded = false;

  private constructor(
    private readonly db: IDBDatabase,
    private readonly durability: 'strict' | 'relaxed',
    private readonly releaseLock: () => void,
  ) {}

  /**
   * Opens (creating if needed) the IndexedDB database `name`, holding its cross-tab lock until `close`.
   * @throws StorageLockedError when another tab or window keeps the database open past `lockWaitMs`.
   * @example
   * const replica = await Replica.open({ storage: await IndexedDbStorage.open('notes') });
   */
  static async open(name: string, options: IndexedDbStorageOptions = {}): Promise<IndexedDbStorage> {
    if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('the IndexedDB database name must be a non-empty string');
    const factory = options.factory ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (factory === undefined) throw new InvalidArgumentError('IndexedDB is not available here; pass options.factory');
    const locks = options.locks === undefined ? platformLocks() : (options.locks ?? undefined);
    const releaseLock = locks === undefined ? () => {} : await acquireExclusive(locks, `tidelog:indexeddb:${name}`, options.lockWaitMs ?? 3_000, `IndexedDB database ${name}`);
    try {
      return new IndexedDbStorage(await openDatabase(factory, name), options.durability ?? 'strict', releaseLock);
    } catch (error) {
      releaseLock();
      throw error;
    }
  }

  private transaction(stores: string[], mode: IDBTransactionMode): IDBTransaction {
    return mode === 'readwrite' ? this.db.transaction(stores, mode, { durability: this.durability }) : this.db.transaction(stores, mode);
  }


  /** Reads meta, snapshot and every batch in commit order, in one read transaction. */
  async load(): Promise<StoredLog> {
    this.assertOpen();
    const tx = this.transaction([META, SNAPSHOTS, BATCHES], 'readonly');
    const done = transactionDone(tx, 'load');
    const [metaBytes, snapshotBytes, keys, values] = await Promise.all([
      requestResult(tx.objectStore(META).get(CURRENT) as IDBRequest<Uint8Array | undefined>, 'read meta'),
      requestResult(tx.objectStore(SNAPSHOTS).get(CURRENT) as IDBRequest<Uint8Array | undefined>, 'read snapshot'),
      requestResult(tx.objectStore(BATCHES).getAllKeys(), 'read batch keys'),
      requestResult(tx.objectStore(BATCHES).getAll() as IDBRequest<Uint8Array[]>, 'read batches'),
    ]);
    await done;
    const meta = metaBytes === undefined ? undefined : decodeOrCorrupt(() => decodeMeta(asBytes(metaBytes)), 'meta');
    const snapshot = snapshotBytes === undefined ? undefined : decodeOrCorrupt(() => decodeSnapshotPayload(asBytes(snapshotBytes)), 'snapshot');
    const batches: Op[][] = [];
    this.coverage = [];
    for (let i = 0; i < values.length; i++) {
      const key = keys[i] as number;
      const ops = decodeOrCorrupt(() => decodeOps(asBytes(values[i])), `batch ${key}`);
      batches.push(ops);
      this.coverage.push(coverageOf(key, ops));
      if (key >= this.nextKey) this.nextKey = key + 1;
    }
    this.loaded = true;
    return { meta, snapshot, batches };
  }

  /** Appends one batch in its own readwrite transaction: atomic, and durable once it completes. */
  async append(batch: readonly Op[]): Promise<void> {
    this.assertReady();
    const key = this.nextKey++;
    const tx = this.transaction([BATCHES], 'readwrite');
    const done = transactionDone(tx, `append of batch ${key}`);
    tx.objectStore(BATCHES).add(encodeOps(batch), key);
    await done;
    this.coverage.push(coverageOf(key, batch));
  }

  /** Replaces the snapshot and deletes the batches it covers, in one transaction. */
  async writeSnapshot(snapshot: Snapshot): Promise<void> {
    this.assertReady();
    const covered = this.coverage.filter(({ maxSeq }) => [...maxSeq].every(([replica, seq]) => seq <= (snapshot.base[replica] ?? 0)));
    const tx = this.transaction([SNAPSHOTS, BATCHES], 'readwrite');
    const done = transactionDone(tx, 'snapshot');
    tx.objectStore(SNAPSHOTS).put(encodeSnapshotPayload(snapshot), CURRENT);
    const batches = tx.objectStore(BATCHES);
    for (const { key } of covered) batches.delete(key);
    await done;
    const gone = new Set(covered.map((c) => c.key));
    this.coverage = this.coverage.filter((c) => !gone.has(c.key));
  }

  /** Records the metadata. */
  async writeMeta(meta: StorageMeta): Promise<void> {
    this.assertOpen();
    const tx = this.transaction([META], 'readwrite');
    const done = transactionDone(tx, 'meta');
    tx.objectStore(META).put(encodeMeta(meta), CURRENT);
    await done;
  }

  /** Number of batches held (for tests and stats). */
  get batchCount(): number {
    return this.coverage.length;
  }

  /** Closes the database connection and lets another tab open it. Later calls throw `ReplicaClosedError`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
    this.releaseLock();
  }

  private assertOpen(): void {
    if (this.closed) throw new ReplicaClosedError('the IndexedDB storage is closed');
  }

  private assertReady(): void {
    this.assertOpen();
    // Appending before load would reuse batch keys of a database that already holds some.
    if (!this.loaded) throw new InvalidArgumentError('IndexedDbStorage.load must run before writes');
  }
}

/** Opens (creating or upgrading) the database with its three object stores. */
async function openDatabase(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  const request = factory.open(name, DB_VERSION);
  request.onupgradeneeded = () => {
    const db = request.result;
    // Keys are given explicitly (the commit sequence number), never generated, so a reload continues the sequence.
    if (!db.objectStoreNames.contains(BATCHES)) db.createObjectStore(BATCHES);
    if (!db.objectStoreNames.contains(SNAPSHOTS)) db.createObjectStore(SNAPSHOTS);
    if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
  };
  return requestResult(request, `open(${name})`);
}

/** Structured clone may hand back an ArrayBuffer or a typed array depending on the engine. */
function asBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new StorageCorruptError('IndexedDB holds a value that is not bytes');
}

function decodeOrCorrupt<T>(decode: () => T, what: string): T {
  try {
    return decode();
  } catch (error) {
    throw new StorageCorruptError(`IndexedDB ${what} does not decode: ${(error as Error).message}`, { what });
  }
}
