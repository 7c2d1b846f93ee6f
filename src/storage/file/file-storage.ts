/**
 * `FileStorage`: the core's {@link Storage} on a directory of append-only
 * segment files. Commits are framed records (length + CRC32C) written in one
 * `write`; in 'sync' mode that write goes through an `O_DSYNC` descriptor (durable on return),
 * in 'interval' mode an `fdatasync` on a timer makes it durable.
 * See docs/storage-format.md for the format and the guarantees of each mode.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeOpsJson } from '../../core/codec.js';
import { InvalidArgumentError, ReplicaClosedError, StorageFailedError } from '../../core/errors.js';
import type { Op } from '../../core/op.js';
import type { Snapshot, Storage, StorageMeta, StoredLog } from '../../core/storage.js';
import { fdatasync, fsyncDir, fsyncDirAsync, writeFileAtomic, writeFully, writeFullyAsync } from './atomic.js';
import { encodeFileHeader, encodeRecord, FILE_HEADER_BYTES, frameRecordInPlace, parseSnapshotName, RECORD_HEADER_BYTES, RECORD_PAYLOAD_BYTES_MAX, segmentName, snapshotName } from './format.js';
import { GroupSync } from './group-sync.js';
import { acquireLock, type DirectoryLock } from './lock.js';
import { SpareSegment } from './spare-segment.js';
import { META_FILE, type RecoveredLog, type RecoveryReport, recoverDirectory, type SegmentState } from './recovery.js';
import { encodeMeta, encodeSnapshotPayload } from '../snapshot-codec.js';

/**
 * When a commit's promise resolves.
 * - `sync`: once its record is on stable storage (survives power loss): written through an `O_DSYNC`
 *   descriptor, the same guarantee as `write` + `fdatasync`. The core's group commit makes concurrent
 *   commits share one record, so one durable write.
 * - `interval`: once it is written to the OS (survives a process crash); synced every `syncIntervalMs`.
 */
export type DurabilityMode = 'sync' | 'interval';

/** Options of {@link FileStorage.open}. */
export interface FileStorageOptions {
  /** Durability policy; `sync` by default. */
  readonly durability?: DurabilityMode;
  /** Sync period of the `interval` mode. Default 100 ms. */
  readonly syncIntervalMs?: number;
  /** A segment is closed and a new one started once it would grow past this. Default 1 MiB (small segments let compaction drop most of the log; open reads at most one partly covered segment). */
  readonly segmentBytesMax?: number;
  /** Keep everything before mid-log damage and move the rest to `damaged/` instead of failing. */
  readonly repair?: boolean;
  /** Open without the lock and change nothing on disk (inspection tools). Writes fail. */
  readonly readOnly?: boolean;
  /** Where the one-line recovery notice goes when bytes were dropped or moved. Default `console.warn`. */
  readonly log?: (line: string) => void;
  /**
   * 'sync' mode: a commit of at least this many ops makes its durable write on the calling thread, which
   * blocks the event loop for the device's write (about 0.1 ms on this project's test machine); smaller
   * commits write on the libuv thread pool and leave the loop free meanwhile. Default 64.
   *
   * Why: a commit that large means many writers are waiting on the one commit path, and the thread pool's
   * two hand-offs per write (about 35 us on a 2-core VM) are then a fifth of every commit cycle. The
   * guarantee is the same either way. `Infinity` never blocks; 1 always does (the fastest for a
   * process that does nothing but write).
   */
  readonly blockingWriteOpsMin?: number;
}

/** Sizes and counters of an open file log. */
export interface FileStorageStats {
  /** Segment files in use. */
  readonly segments: number;
  /** Their total valid length. */
  readonly segmentBytes: number;
  /** The current snapshot file, if any. */
  readonly snapshotFile: string | undefined;
  /** Its size. */
  readonly snapshotBytes: number;
  /** Syncs since open: durable (`O_DSYNC`) record writes in 'sync' mode, group fdatasync calls in 'interval' mode. */
  readonly syncs: number;
  /** Records appended since open. */
  readonly appends: number;
  /** Segments started from a spare prepared ahead (the rest were created at the roll). */
  readonly sparesUsed: number;
  /** Durable writes made on the calling thread (see `blockingWriteOpsMin`), counted in `syncs` too. */
  readonly blockingWrites: number;
}

interface ActiveSegment {
  readonly state: SegmentState;
  readonly fd: number;
  /** 'sync' mode: the same file opened `O_DSYNC`; a record write on it returns once the record is durable. */
  readonly dsyncFd: number | undefined;
  /** Bytes a completed fdatasync covers: a roll need not sync again what group commit already did. */
  syncedBytes: number;
  /** False while the file's name (a spare renamed into place) is not yet durable: the next sync fsyncs the directory too. */
  dirSynced: boolean;
}

const SEGMENT_BYTES_MAX_DEFAULT = 1024 * 1024;
const BLOCKING_WRITE_OPS_MIN_DEFAULT = 64;
/**
 * A new segment is filled with zeros up to its size limit (at most this much) and synced once: later
 * appends overwrite allocated blocks, so their fdatasync flushes data only, without a journal commit
 * for a grown file (about a third faster per sync on this machine's ext4). Recovery reads an all-zero
 * tail as free space; a segment is trimmed back to its records when it is closed or rolled over.
 */
const PREALLOCATE_BYTES_MAX = 4 * 1024 * 1024;
/** Largest record buffer kept for reuse between commits; larger batches get a buffer of their own. */
const SCRATCH_BYTES_MAX = 4 * 1024 * 1024;

/** Cuts a segment's preallocated zeros off behind its last record and syncs it. */
function trimSegment(segment: ActiveSegment): void {
  fs.ftruncateSync(segment.fd, segment.state.bytes);
  fs.fdatasyncSync(segment.fd);
}

/** A crash-safe file log for one database directory. */
export class FileStorage implements Storage {
  private recovered: RecoveredLog | undefined;
  private segments: SegmentState[];
  private snapshotIndex: number;
  private active: ActiveSegment | undefined;
  private readonly groupSync: GroupSync;
  private timer: ReturnType<typeof setInterval> | undefined;
  private dirty = false;
  private failure: StorageFailedError | undefined;
  private compacting: Promise<void> | undefined;
  private closed = false;
  private appends = 0;
  private durableWrites = 0;
  private blockingWrites = 0;
  /** The durable record write in flight ('sync' mode); an append that overlaps it waits, then shares an fdatasync. */
  private writing: Promise<void> | undefined;
  private sparesUsed = 0;
  private syncsInFlight = 0;
  private readonly retiredFds: number[] = [];
  /** The next segment, being prepared off the event loop once the active one is half full. */
  private spare: SpareSegment | undefined;
  /** Spares not used (a roll came before one was ready, or to another index), being closed and removed. */
  private readonly discarding = new Set<Promise<void>>();
  private scratch = Buffer.allocUnsafe(64 * 1024);

  private constructor(
    /** The database directory. */
    readonly dir: string,
    private readonly options: Required<Omit<FileStorageOptions, 'log'>>,
    recovered: RecoveredLog,
    private readonly lock: DirectoryLock | undefined,
  ) {
    this.recovered = recovered;
    this.segments = recovered.segments;
    this.snapshotIndex = recovered.snapshotIndex;
    this.recovery = recovered.report;
    this.groupSync = new GroupSync(() => this.syncActive());
    if (options.durability === 'interval' && !options.readOnly) {
      this.timer = setInterval(() => {
        if (this.dirty) this.groupSync.request().catch(() => undefined);
      }, options.syncIntervalMs);
      this.timer.unref();
    }
  }

  /** In 'sync' mode an append waits on its O_DSYNC write (on the libuv thread pool): the core prepares meanwhile. */
  get appendWaitsOnDevice(): boolean {
    return this.options.durability === 'sync';
  }

  /** What recovery found and did when this storage was opened. */
  readonly recovery: RecoveryReport;

  /** The pid of a crashed process whose stale lock this open took over, if any. */
  get staleLockPid(): number | undefined {
    return this.lock?.stalePid;
  }

  /**
   * Opens (creating if needed) the database in `dir`, takes its write lock and recovers it.
   * @throws StorageLockedError when another live process has it open.
   * @throws StorageCorruptError on damage that is not a torn tail (unless `repair`), naming the file and offset.
   * @example
   * const replica = await Replica.open({ storage: await FileStorage.open('./my-db') });
   */
  static async open(dir: string, options: FileStorageOptions = {}): Promise<FileStorage> {
    const resolved = {
      durability: options.durability ?? 'sync',
      syncIntervalMs: options.syncIntervalMs ?? 100,
      segmentBytesMax: options.segmentBytesMax ?? SEGMENT_BYTES_MAX_DEFAULT,
      repair: options.repair ?? false,
      readOnly: options.readOnly ?? false,
      blockingWriteOpsMin: options.blockingWriteOpsMin ?? BLOCKING_WRITE_OPS_MIN_DEFAULT,
    } as const;
    if (resolved.durability !== 'sync' && resolved.durability !== 'interval') throw new InvalidArgumentError(`durability must be 'sync' or 'interval', got ${String(resolved.durability)}`);
    if (!Number.isSafeInteger(resolved.syncIntervalMs) || resolved.syncIntervalMs < 1) throw new InvalidArgumentError('syncIntervalMs must be a positive integer');
    if (!Number.isSafeInteger(resolved.segmentBytesMax) || resolved.segmentBytesMax < 4096) throw new InvalidArgumentError('segmentBytesMax must be an integer >= 4096');
    const blockingMin = resolved.blockingWriteOpsMin;
    if (!(blockingMin === Number.POSITIVE_INFINITY || (Number.isSafeInteger(blockingMin) && blockingMin >= 1))) throw new InvalidArgumentError('blockingWriteOpsMin must be a positive integer or Infinity');
    if (resolved.readOnly) {
      if (!fs.existsSync(dir)) throw new InvalidArgumentError(`${dir} does not exist`);
    } else {
      fs.mkdirSync(dir, { recursive: true });
    }
    const lock = resolved.readOnly ? undefined : acquireLock(dir);
    let recovered: RecoveredLog;
    try {
      recovered = recoverDirectory(dir, { readOnly: resolved.readOnly, repair: resolved.repair, collectAll: false });
    } catch (error) {
      lock?.release();
      throw error;
    }
    const report = recovered.report;
    // Any finding at all, even a torn tail of 0 bytes: open says what `verify` would have said.
    if (report.damage.length > 0) {
      const where = report.damage.map((d) => `${d.file}@${d.offset} (${d.reason})`).join('; ');
      (options.log ?? console.warn)(
        `tidelog: recovered ${dir}: dropped ${report.bytesDropped} bytes of torn tail, moved ${report.bytesMovedAside} bytes to ${report.movedAside.join(', ') || 'nowhere'}; ${where}`,
      );
    }
    return new FileStorage(dir, resolved, recovered, lock);
  }

  /** Hands the recovered log to the core (once). */
  async load(): Promise<StoredLog> {
    this.assertOpen();
    const recovered = this.recovered;
    if (recovered === undefined) throw new InvalidArgumentError('FileStorage.load may be called once; open the directory again to reload');
    this.recovered = undefined; // let the decoded batches be collected once the core has them
    // Records cut or moved aside may have reached peers already: the core then takes a new replica id.
    const tailLost = recovered.report.bytesDropped > 0 || recovered.report.bytesMovedAside > 0;
    return { meta: recovered.meta, snapshot: recovered.snapshot, batches: recovered.batches, tailLost };
  }

  /**
   * Appends one batch as one record. Resolves when it is durable under the mode:
   * after a shared fdatasync (`sync`) or once written to the OS (`interval`).
   */
  async append(batch: readonly Op[]): Promise<void> {
    this.assertWritable();
    if (this.compacting !== undefined) await this.compacting.catch(() => undefined);
    this.assertWritable();
    if (this.options.durability === 'interval') {
      this.writeRecord(this.frameBatch(batch), batch);
      return;
    }
    if (this.writing === undefined && !this.groupSync.busy) {
      const run = this.appendDurable(batch);
      this.writing = run;
      try {
        await run;
      } finally {
        if (this.writing === run) this.writing = undefined;
      }
      return;
    }
    // Appends that overlap (a direct caller; the core never overlaps them): once the durable write in flight
    // is done, each is written here and they share one fdatasync (group commit at the file level). No
    // durable write starts while such a record waits for its sync, so nothing is acknowledged ahead of it.
    while (this.writing !== undefined) await this.writing.catch(() => undefined);
    this.assertWritable();
    this.writeRecord(this.frameBatch(batch), batch);
    await this.groupSync.request();
  }

  /**
   * 'sync' mode: one `pwrite` of the record on the `O_DSYNC` descriptor. It returns once the record is on
   * stable storage, so the write and its sync cost one system call (a write plus an `fdatasync` cost two).
   * Small commits write on the libuv thread pool: the write is issued before this returns its promise,
   * and the caller can prepare while it runs. Large ones write here (see `blockingWriteOpsMin`).
   */
  private async appendDurable(batch: readonly Op[]): Promise<void> {
    const record = this.frameBatch(batch);
    const active = this.activeFor(record.length);
    const position = active.state.bytes;
    const dirPending = !active.dirSynced;
    try {
      if (batch.length >= this.options.blockingWriteOpsMin) {
        this.blockingWrites += 1;
        writeFully(active.dsyncFd as number, record, position);
        if (dirPending) fsyncDir(this.dir);
      } else {
        const written = writeFullyAsync(active.dsyncFd as number, record, position);
        // A spare renamed into place: its name must be durable before any record in it is acknowledged.
        await (dirPending ? Promise.all([written, fsyncDirAsync(this.dir)]) : written);
      }
    } catch (error) {
      this.failDurableWrite(active, error);
    }
    if (dirPending) active.dirSynced = true;
    active.state.bytes = position + record.length;
    active.syncedBytes = active.state.bytes;
    this.durableWrites += 1;
    this.noteAppended(active, batch);
  }

  /**
   * A failed durable write. Out of space: nothing of the record counts, whatever part of it landed is cut,
   * and only this commit fails (as a failed plain write). Anything else may be a failed flush: as after a
   * failed fdatasync, nothing unsynced can be trusted, so the storage refuses writes until it is reopened.
   */
  private failDurableWrite(active: ActiveSegment, error: unknown): never {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const file = segmentName(active.state.index);
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') {
      this.undoPartialWrite(active);
      throw new StorageFailedError(`writing to ${file} failed; nothing was committed`, { file }, { cause: error });
    }
    this.failure = new StorageFailedError(`a durable write to ${file} failed; the storage refuses further writes until it is reopened and recovered`, { file }, { cause: error });
    throw this.failure;
  }

  /**
   * The batch's record: the payload is `encodeOps(batch)` (the same bytes), UTF-8-encoded straight into a
   * reused buffer behind the record header, so a commit allocates no payload copy. The record is written
   * synchronously before the next append can reuse the buffer.
   */
  private frameBatch(batch: readonly Op[]): Uint8Array {
    const json = encodeOpsJson(batch);
    const bytesMax = RECORD_HEADER_BYTES + 3 * json.length; // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (bytesMax > this.scratch.length && bytesMax <= SCRATCH_BYTES_MAX) this.scratch = Buffer.allocUnsafe(Math.min(SCRATCH_BYTES_MAX, Math.max(bytesMax, 2 * this.scratch.length)));
    const buffer = bytesMax <= this.scratch.length ? this.scratch : Buffer.allocUnsafe(bytesMax);
    const payloadLength = buffer.write(json, RECORD_HEADER_BYTES, 'utf8');
    // A longer record could not be read back (recovery would take it for damage): refuse it before writing.
    if (payloadLength > RECORD_PAYLOAD_BYTES_MAX) throw new InvalidArgumentError(`a commit of ${payloadLength} bytes exceeds the ${RECORD_PAYLOAD_BYTES_MAX}-byte record limit; nothing was written`);
    return frameRecordInPlace(buffer, payloadLength);
  }

  /** The segment a record of `recordBytes` goes to: the active one, or the next when it would overflow. */
  private activeFor(recordBytes: number): ActiveSegment {
    const active = this.active ?? this.openActive();
    if (!(active.state.bytes > FILE_HEADER_BYTES && active.state.bytes + recordBytes > this.options.segmentBytesMax)) return active;
    try {
      return this.roll();
    } catch (error) {
      if (error instanceof StorageFailedError) throw error;
      const file = segmentName(active.state.index + 1);
      throw new StorageFailedError(`starting ${file} failed; nothing was committed (the next write tries again)`, { file }, { cause: error });
    }
  }

  private writeRecord(record: Uint8Array, batch: readonly Op[]): void {
    const active = this.activeFor(record.length);
    try {
      writeFully(active.fd, record, active.state.bytes);
    } catch (error) {
      this.undoPartialWrite(active);
      throw new StorageFailedError(`writing to ${segmentName(active.state.index)} failed; nothing was committed`, { file: segmentName(active.state.index) }, { cause: error });
    }
    active.state.bytes += record.length;
    this.dirty = true;
    this.noteAppended(active, batch);
  }

  private noteAppended(active: ActiveSegment, batch: readonly Op[]): void {
    for (const op of batch) if (op.seq > (active.state.maxSeq.get(op.replica) ?? 0)) active.state.maxSeq.set(op.replica, op.seq);
    this.appends += 1;
    if (this.spare === undefined && active.state.bytes * 2 >= this.options.segmentBytesMax) this.prepareSpare(active.state.index + 1);
  }

  /** Starts writing the segment after the active one under a temporary name, so the roll need not. */
  private prepareSpare(index: number): void {
    this.spare = SpareSegment.prepare(index, path.join(this.dir, `${segmentName(index)}.tmp`), this.segmentContent(index));
  }

  private discardSpare(spare: SpareSegment): void {
    const done: Promise<void> = spare.discard().then(
      () => void this.discarding.delete(done),
      () => void this.discarding.delete(done),
    );
    this.discarding.add(done);
  }

  /** A new segment's bytes: its header, then zeros up to the preallocation. */
  private segmentContent(index: number): Uint8Array {
    const header = encodeFileHeader('segment', index);
    const content = new Uint8Array(Math.max(header.length, Math.min(this.options.segmentBytesMax, PREALLOCATE_BYTES_MAX)));
    content.set(header);
    return content;
  }

  /** A short write (disk full) must not leave a partial record in front of the next one. */
  private undoPartialWrite(active: ActiveSegment): void {
    try {
      fs.ftruncateSync(active.fd, active.state.bytes);
    } catch (error) {
      this.failure = new StorageFailedError('the log could not be restored after a failed write; reopen the database to recover', {}, { cause: error });
    }
  }

  private async syncActive(): Promise<void> {
    const active = this.active;
    if (active === undefined) return;
    this.dirty = false;
    this.syncsInFlight += 1;
    const covered = active.state.bytes;
    const dirPending = !active.dirSynced;
    try {
      // A spare renamed into place: its name must be durable before any record in it is acknowledged.
      await (dirPending ? Promise.all([fdatasync(active.fd), fsyncDirAsync(this.dir)]) : fdatasync(active.fd));
      if (covered > active.syncedBytes) active.syncedBytes = covered;
      if (dirPending) active.dirSynced = true;
    } catch (error) {
      // After a failed fsync the kernel may have dropped the dirty pages: nothing written since the last good sync can be trusted.
      this.failure = new StorageFailedError('fdatasync failed; the storage refuses further writes until it is reopened and recovered', {}, { cause: error });
      throw this.failure;
    } finally {
      this.syncsInFlight -= 1;
      if (this.syncsInFlight === 0) this.closeRetired();
    }
  }

  /** Closes a segment's fd now, or after the sync running on it (closing under it could hand its number to another file). */
  private retire(segment: ActiveSegment): void {
    this.retiredFds.push(segment.fd);
    if (segment.dsyncFd !== undefined) this.retiredFds.push(segment.dsyncFd);
    if (this.syncsInFlight === 0) this.closeRetired();
  }

  private closeRetired(): void {
    for (const fd of this.retiredFds.splice(0)) fs.closeSync(fd);
  }

  /** Opens the segment appends go to: the last live one, or a new one. */
  private openActive(): ActiveSegment {
    const last = this.segments.at(-1);
    if (last !== undefined) {
      // Recovered bytes may never have been synced by us; count none as synced.
      const file = path.join(this.dir, segmentName(last.index));
      this.active = { state: last, fd: fs.openSync(file, 'r+'), dsyncFd: this.openDsync(file), syncedBytes: 0, dirSynced: true };
      return this.active;
    }
    return this.startSegment(Math.max(this.snapshotIndex, 1));
  }

  /**
   * Makes segment `index` the active one: the spare renamed into place if it is ready, else a new file made here.
   * Either way the file appears under its name only whole (header and zeros written and synced), so a crash or a
   * full disk never leaves a half-made segment that recovery, `verify` or the next roll would trip over.
   */
  private startSegment(index: number): ActiveSegment {
    const spare = this.spare;
    this.spare = undefined;
    const fd = spare?.index === index ? spare.take() : undefined;
    if (spare === undefined || fd === undefined) {
      if (spare !== undefined) this.discardSpare(spare);
      return this.createSegment(index);
    }
    let dsyncFd: number | undefined;
    try {
      dsyncFd = this.openDsync(spare.tmpPath);
      this.placeSegment(spare.tmpPath, index);
    } catch {
      if (dsyncFd !== undefined) fs.closeSync(dsyncFd);
      fs.closeSync(fd);
      this.discardSpare(spare);
      return this.createSegment(index);
    }
    this.sparesUsed += 1;
    return this.activate(index, fd, dsyncFd, false);
  }

  /**
   * Writes segment `index` under a temporary name (header, zeros up to the preallocation), syncs it and renames
   * it into place. On failure (ENOSPC most often) nothing of it is left, so a later roll can try again.
   */
  private createSegment(index: number): ActiveSegment {
    // Not the spare's temporary name: a discarded spare may still be being removed.
    const tmp = path.join(this.dir, `${segmentName(index)}.new.tmp`);
    const fd = fs.openSync(tmp, 'w');
    let dsyncFd: number | undefined;
    try {
      writeFully(fd, this.segmentContent(index), 0);
      fs.fdatasyncSync(fd);
      dsyncFd = this.openDsync(tmp);
      this.placeSegment(tmp, index);
      fsyncDir(this.dir);
    } catch (error) {
      if (dsyncFd !== undefined) fs.closeSync(dsyncFd);
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      // Placed but its name not synced: it holds no record yet, so remove it whole.
      if (dsyncFd !== undefined) fs.rmSync(path.join(this.dir, segmentName(index)), { force: true });
      throw error;
    }
    return this.activate(index, fd, dsyncFd, true);
  }

  /** Renames a fully written segment file into place, refusing to replace one that exists (that would lose its records). */
  private placeSegment(from: string, index: number): void {
    const file = path.join(this.dir, segmentName(index));
    if (fs.existsSync(file)) throw Object.assign(new Error(`EEXIST: ${file} already exists`), { code: 'EEXIST', path: file });
    fs.renameSync(from, file);
  }

  private activate(index: number, fd: number, dsyncFd: number | undefined, dirSynced: boolean): ActiveSegment {
    const state: SegmentState = { index, bytes: FILE_HEADER_BYTES, maxSeq: new Map() };
    this.segments.push(state);
    this.active = { state, fd, dsyncFd, syncedBytes: FILE_HEADER_BYTES, dirSynced };
    return this.active;
  }

  /** The `O_DSYNC` descriptor of a segment, in 'sync' mode only. */
  private openDsync(file: string): number | undefined {
    return this.options.durability === 'sync' ? fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_DSYNC) : undefined;
  }

  /** Waits until no record write or sync is in flight. */
  private async quiesce(): Promise<void> {
    while (this.writing !== undefined) await this.writing.catch(() => undefined);
    await this.groupSync.idle();
  }

  /**
   * Closes the full segment (synced, so no later segment ever holds data an earlier one lacks) and starts the next.
   * If the next cannot be made (out of space), the full one stays active and the next append that needs a roll tries
   * again: the handle recovers by itself once space returns.
   */
  private roll(): ActiveSegment {
    const previous = this.active as ActiveSegment;
    // The trim need not be durable (a zero tail left by a crash is free space), but every record of
    // this segment must be before the next segment gets any: sync unless group commit already has.
    fs.ftruncateSync(previous.fd, previous.state.bytes);
    if (previous.syncedBytes < previous.state.bytes) {
      try {
        fs.fdatasyncSync(previous.fd);
      } catch (error) {
        this.failure = new StorageFailedError('fdatasync failed; the storage refuses further writes until it is reopened and recovered', {}, { cause: error });
        throw this.failure;
      }
      previous.syncedBytes = previous.state.bytes;
    }
    // Its name too (a spare whose rename no sync has covered yet, in 'interval' mode).
    if (!previous.dirSynced) {
      fsyncDir(this.dir);
      previous.dirSynced = true;
    }
    const next = this.startSegment(previous.state.index + 1);
    this.retire(previous);
    return next;
  }

  /**
   * Writes the snapshot atomically (temp file, fsync, rename, fsync directory), then
   * removes the segments whose ops it all covers and the snapshot it replaces.
   */
  async writeSnapshot(snapshot: Snapshot): Promise<void> {
    this.assertWritable();
    while (this.compacting !== undefined) await this.compacting.catch(() => undefined);
    const run = this.replaceSnapshot(snapshot);
    this.compacting = run;
    try {
      await run;
    } finally {
      this.compacting = undefined;
    }
  }

  private async replaceSnapshot(snapshot: Snapshot): Promise<void> {
    await this.quiesce();
    // Later appends go to a fresh segment, so the current one becomes removable at the next compaction.
    if (this.active !== undefined && this.active.state.bytes > FILE_HEADER_BYTES) this.roll();
    else if (this.active !== undefined) trimSegment(this.active);
    const covered = (segment: SegmentState): boolean => {
      for (const [replica, seq] of segment.maxSeq) if (seq > (snapshot.base[replica] ?? 0)) return false;
      return true;
    };
    let firstLive = this.segments.findIndex((segment) => !covered(segment));
    if (firstLive < 0) firstLive = this.segments.length;
    const lastIndex = this.segments.at(-1)?.index ?? this.snapshotIndex - 1;
    const index = this.segments[firstLive]?.index ?? Math.max(lastIndex + 1, this.snapshotIndex, 1);
    const file = path.join(this.dir, snapshotName(index));
    let payload: Uint8Array;
    try {
      payload = encodeSnapshotPayload(snapshot);
    } catch (error) {
      throw new StorageFailedError('the snapshot is too large to encode; the previous one is intact', {}, { cause: error });
    }
    if (payload.length > RECORD_PAYLOAD_BYTES_MAX) throw new StorageFailedError(`the snapshot encodes to ${payload.length} bytes, over the ${RECORD_PAYLOAD_BYTES_MAX}-byte record limit; the previous one is intact`);
    try {
      writeFileAtomic(file, [encodeFileHeader('snapshot', index), encodeRecord(payload)]);
    } catch (error) {
      fs.rmSync(`${file}.tmp`, { force: true });
      throw new StorageFailedError('writing the snapshot failed; the previous one is intact', {}, { cause: error });
    }
    const removed = this.segments.slice(0, firstLive);
    if (this.active !== undefined && removed.includes(this.active.state)) {
      this.retire(this.active);
      this.active = undefined;
    }
    for (const segment of removed) fs.rmSync(path.join(this.dir, segmentName(segment.index)), { force: true });
    for (const name of fs.readdirSync(this.dir)) {
      const older = parseSnapshotName(name);
      if (older !== undefined && older < index) fs.rmSync(path.join(this.dir, name), { force: true });
    }
    fsyncDir(this.dir);
    this.segments = this.segments.slice(firstLive);
    this.snapshotIndex = index;
  }

  /** Records the metadata (atomically). */
  async writeMeta(meta: StorageMeta): Promise<void> {
    this.assertWritable();
    writeFileAtomic(path.join(this.dir, META_FILE), [encodeMeta(meta)]);
  }

  /** Sizes and counters, for `tidelog inspect` and benchmarks. */
  stats(): FileStorageStats {
    let snapshotBytes = 0;
    const snapshotFile = this.snapshotIndex > 0 && fs.existsSync(path.join(this.dir, snapshotName(this.snapshotIndex))) ? snapshotName(this.snapshotIndex) : undefined;
    if (snapshotFile !== undefined) snapshotBytes = fs.statSync(path.join(this.dir, snapshotFile)).size;
    return {
      segments: this.segments.length,
      segmentBytes: this.segments.reduce((sum, s) => sum + s.bytes, 0),
      snapshotFile,
      snapshotBytes,
      syncs: this.groupSync.syncCount + this.durableWrites,
      appends: this.appends,
      sparesUsed: this.sparesUsed,
      blockingWrites: this.blockingWrites,
    };
  }

  /** Resolves once the next segment being prepared, if any, is ready or has failed (for tests and benchmarks). */
  async spareSettled(): Promise<void> {
    await this.spare?.settled;
  }

  /** Syncs what is written, closes files and releases the lock. Later calls throw `ReplicaClosedError`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    while (this.compacting !== undefined) await this.compacting.catch(() => undefined);
    await this.quiesce();
    if (this.spare !== undefined) this.discardSpare(this.spare);
    this.spare = undefined;
    // Before the lock is released: a spare still being written must not outlive this handle.
    await Promise.all(this.discarding);
    try {
      if (this.active !== undefined) {
        if (this.failure === undefined) trimSegment(this.active);
        this.retire(this.active);
        this.active = undefined;
      }
      this.closeRetired();
    } finally {
      this.recovered = undefined;
      this.lock?.release();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ReplicaClosedError('the file storage is closed');
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.options.readOnly) throw new InvalidArgumentError('the file storage was opened read-only');
    if (this.failure !== undefined) throw this.failure;
  }
}
