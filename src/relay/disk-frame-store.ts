/**
 * Store-and-forward on disk (`--store <dir>`): one append-only file per room (format: `room-file.ts`).
 *
 * Bounds, all enforced on every append:
 * - per room, by bytes: a file that grows past 1.5x `bytesPerRoomMax` is rewritten with only its newest
 *   records under the bound (and none older than the age bound);
 * - across rooms, by bytes: once the files together pass `totalBytesMax`, the rooms written longest ago
 *   are deleted whole until they fit again (evictions are counted on `/metrics`);
 * - by age: replays skip frames older than `ageMsMax`, and `sweep()` deletes rooms not written for that long.
 *
 * Replays stream: each page is read from the file when the relay pulls it, through one file handle per
 * room shared by its concurrent replays, so a joiner never costs a copy of the room. A rewrite or an
 * eviction during a replay does not disturb it (it keeps reading the file it opened).
 * The frames are ciphertext: the relay can keep them, not read them.
 */
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '../core/errors.js';
import { firstPositionAt, type FrameStore, REPLAY_PAGE_BYTES_MAX, type ReplayRange, type StoredFrame } from './frame-store.js';
import type { PrometheusWriter } from './prometheus.js';
import {
  CHECKPOINT_EVERY,
  type Checkpoint,
  checkpointBefore,
  encodeRecord,
  encodeRoomFileHeader,
  ROOM_FILE_HEADER_BYTES,
  type RoomFileLayout,
  readLayout,
  readPages,
  scanRoomFile,
  walkRecords,
} from './room-file.js';

/** Options of {@link DiskFrameStore}. */
export interface DiskFrameStoreOptions {
  /** The directory holding one file per room (created if missing). */
  readonly dir: string;
  /** Bytes kept per room. Default 64 MiB. */
  readonly bytesPerRoomMax?: number;
  /** Bytes kept over all rooms; the rooms written longest ago are evicted beyond it. Default 1 GiB. */
  readonly totalBytesMax?: number;
  /** Oldest frame kept, in ms. Default 7 days. */
  readonly ageMsMax?: number;
  /** The wall clock in ms (tests move it). */
  readonly nowMs?: () => number;
}

/** Sizes and counters of a disk store (also on `/metrics`). */
export interface DiskFrameStoreStats {
  /** Rooms with a file. */
  readonly rooms: number;
  /** Bytes of all room files. */
  readonly bytes: number;
  /** Rooms deleted to keep the total bound. */
  readonly roomsEvicted: number;
  /** Their bytes. */
  readonly bytesEvicted: number;
  /** Bytes cut from the front of rooms by the per-room and age bounds. */
  readonly bytesTrimmed: number;
  /** Appends and replays that failed (an I/O error: the frame then lives only in the clients). */
  readonly failures: number;
}

const ROOM_FILE = /^[A-Za-z0-9_-]{1,128}\.frames$/;

/** The open file a room's replays read, shared while any of them runs. */
interface SharedReader {
  readonly handle: FileHandle;
  users: number;
}

/** A room's file, once read: where the next record goes and how to find a position fast. */
interface LoadedRoom {
  layout: RoomFileLayout;
  nextPosition: number;
  /** Every {@link CHECKPOINT_EVERY}-th record from the first; always holds the first record once there is one. */
  checkpoints: Checkpoint[];
}

interface RoomState {
  /** Size of the room's file. */
  bytes: number;
  lastWriteMs: number;
  loaded: LoadedRoom | undefined;
  reader: SharedReader | undefined;
  /** Bytes counted as on their way out when an eviction was scheduled (0: not being evicted). */
  evictingBytes: number;
}

/** Each room's recent frames in a file under one directory. */
export class DiskFrameStore implements FrameStore {
  private readonly bytesPerRoomMax: number;
  private readonly totalBytesMax: number;
  private readonly ageMsMax: number;
  private readonly nowMs: () => number;
  /** Every room with a file, least recently written first. */
  private readonly rooms = new Map<string, RoomState>();
  private totalBytes = 0;
  private evictingBytes = 0;
  private roomsEvicted = 0;
  private bytesEvicted = 0;
  private bytesTrimmed = 0;
  private failures = 0;
  // One chain per room keeps appends, rewrites, evictions and replay starts of a file from interleaving.
  private readonly chains = new Map<string, Promise<unknown>>();
  private ready: Promise<void> | undefined;

  /** @throws InvalidArgumentError when a bound is not a positive number or the per-room bound exceeds the total. */
  constructor(private readonly options: DiskFrameStoreOptions) {
    this.bytesPerRoomMax = options.bytesPerRoomMax ?? 64 * 1024 * 1024;
    this.totalBytesMax = options.totalBytesMax ?? 1024 * 1024 * 1024;
    this.ageMsMax = options.ageMsMax ?? 7 * 24 * 3_600_000;
    this.nowMs = options.nowMs ?? Date.now;
    for (const [name, value] of Object.entries({ bytesPerRoomMax: this.bytesPerRoomMax, totalBytesMax: this.totalBytesMax, ageMsMax: this.ageMsMax })) {
      if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(`${name} must be a positive number`, { [name]: value });
    }
    // A room may reach 1.5x its bound before its rewrite: that must fit in the total.
    if (this.bytesPerRoomMax * 1.5 > this.totalBytesMax) throw new InvalidArgumentError('totalBytesMax must be at least 1.5x bytesPerRoomMax', { bytesPerRoomMax: this.bytesPerRoomMax, totalBytesMax: this.totalBytesMax });
  }

  /** Appends a frame to the room's file; resolves with its position, or `undefined` on an I/O error. */
  append(roomId: string, frame: Uint8Array): Promise<number | undefined> {
    return this.serial(roomId, async () => {
      const room = (await this.load(roomId, true)) as RoomState;
      const loaded = room.loaded as LoadedRoom;
      const position = loaded.nextPosition;
      const record = encodeRecord(frame, this.nowMs());
      const handle = await open(this.path(roomId), 'a');
      try {
        await handle.write(record);
      } finally {
        await handle.close();
      }
      if ((position - loaded.layout.firstPosition) % CHECKPOINT_EVERY === 0 || loaded.checkpoints.length === 0) loaded.checkpoints.push({ position, offset: room.bytes });
      loaded.nextPosition = position + 1;
      this.resize(room, room.bytes + record.length);
      room.lastWriteMs = this.nowMs();
      // Most recently written last: eviction takes from the front.
      this.rooms.delete(roomId);
      this.rooms.set(roomId, room);
      if (room.bytes > this.bytesPerRoomMax * 1.5) await this.trim(roomId, room);
      this.evictBeyondTotal(roomId);
      return position;
    });
  }

  /** Streams the room's unexpired frames of `range`, oldest first (see {@link FrameStore.replay}). */
  async *replay(roomId: string, range: ReplayRange = {}): AsyncGenerator<StoredFrame[]> {
    const start = await this.serial(roomId, () => this.startReplay(roomId, range));
    if (start === undefined) return;
    try {
      const oldestMs = this.nowMs() - this.ageMsMax;
      yield* readPages(start.reader.handle, start.from, start.end, REPLAY_PAGE_BYTES_MAX, (_position, storedAtMs) => storedAtMs >= oldestMs);
    } catch {
      this.failures += 1;
    } finally {
      await this.release(start.room, start.reader);
    }
  }

  /** Deletes the files of rooms not written within the age bound. Resolves with the number deleted. */
  async sweep(): Promise<number> {
    await this.init();
    let deleted = 0;
    const expired = (room: RoomState) => this.nowMs() - room.lastWriteMs > this.ageMsMax;
    for (const [roomId, room] of [...this.rooms]) {
      if (!expired(room)) break; // least recently written first: the rest are younger
      const removed = await this.serial(roomId, async () => {
        if (this.rooms.get(roomId) !== room || !expired(room)) return false;
        await this.remove(roomId, room);
        return true;
      });
      if (removed === true) deleted += 1;
    }
    return deleted;
  }

  /** Sizes and counters. */
  stats(): DiskFrameStoreStats {
    return { rooms: this.rooms.size, bytes: this.totalBytes, roomsEvicted: this.roomsEvicted, bytesEvicted: this.bytesEvicted, bytesTrimmed: this.bytesTrimmed, failures: this.failures };
  }

  /** The store's families on `/metrics`. */
  writeMetrics(writer: PrometheusWriter): void {
    const s = this.stats();
    writer
      .gauge('tidelog_relay_store_bytes', 'Bytes of all room files of the disk store.', s.bytes)
      .gauge('tidelog_relay_store_rooms', 'Rooms with a file in the disk store.', s.rooms)
      .gauge('tidelog_relay_store_bytes_max', 'The disk store bound over all rooms (--store-total-bytes-max).', this.totalBytesMax)
      .counter('tidelog_relay_store_rooms_evicted_total', 'Rooms deleted whole, least recently written first, to keep the total bound.', s.roomsEvicted)
      .counter('tidelog_relay_store_bytes_evicted_total', 'Bytes of the rooms evicted.', s.bytesEvicted)
      .counter('tidelog_relay_store_bytes_trimmed_total', 'Bytes cut from the front of rooms by the per-room and age bounds.', s.bytesTrimmed)
      .counter('tidelog_relay_store_failures_total', 'Disk store appends and replays that failed.', s.failures);
  }

  /** Waits for pending appends, rewrites and evictions. */
  async close(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  /** The room's state with its file read (created empty when `create`), or undefined when it has none. */
  private async load(roomId: string, create: boolean): Promise<RoomState | undefined> {
    let room = this.rooms.get(roomId);
    if (room?.loaded !== undefined) return room;
    const path = this.path(roomId);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (room !== undefined) this.forget(roomId, room); // deleted behind our back
      if (!create) return undefined;
      return this.createRoom(roomId);
    }
    let layout: RoomFileLayout;
    let scan: Awaited<ReturnType<typeof scanRoomFile>>;
    let size: number;
    try {
      size = (await handle.stat()).size;
      layout = await readLayout(handle, size);
      scan = await scanRoomFile(handle, size, layout);
    } finally {
      await handle.close();
    }
    // A torn last record (a crash mid-append) would swallow the next append: cut it.
    if (scan.validEnd < size) await truncate(path, scan.validEnd);
    if (room === undefined) {
      room = { bytes: 0, lastWriteMs: this.nowMs(), loaded: undefined, reader: undefined, evictingBytes: 0 };
      this.rooms.set(roomId, room);
    }
    this.resize(room, scan.validEnd);
    room.loaded = { layout, nextPosition: scan.nextPosition, checkpoints: scan.checkpoints };
    // A version-1 file gets its header (and so its positions) before anything is appended to it.
    if (layout.headerBytes === 0) await this.rewrite(roomId, room, { position: layout.firstPosition, offset: 0 });
    return room;
  }

  private async createRoom(roomId: string): Promise<RoomState> {
    const firstPosition = firstPositionAt(this.nowMs());
    const handle = await open(this.path(roomId), 'wx');
    try {
      await handle.write(encodeRoomFileHeader(firstPosition));
    } finally {
      await handle.close();
    }
    const room: RoomState = {
      bytes: 0,
      lastWriteMs: this.nowMs(),
      loaded: { layout: { headerBytes: ROOM_FILE_HEADER_BYTES, firstPosition }, nextPosition: firstPosition, checkpoints: [] },
      reader: undefined,
      evictingBytes: 0,
    };
    this.rooms.set(roomId, room);
    this.resize(room, ROOM_FILE_HEADER_BYTES);
    return room;
  }

  /** Cuts the room's oldest records: those beyond the per-room bound, and any older than the age bound. */
  private async trim(roomId: string, room: RoomState): Promise<void> {
    const loaded = room.loaded as LoadedRoom;
    const records = loaded.layout.headerBytes;
    const sizeCut = room.bytes - this.bytesPerRoomMax;
    const oldestMs = this.nowMs() - this.ageMsMax;
    const handle = await open(this.path(roomId), 'r');
    let cut: Checkpoint;
    try {
      cut = await walkRecords(handle, { position: loaded.layout.firstPosition, offset: records }, room.bytes, (head) => head.offset < sizeCut || head.storedAtMs < oldestMs);
    } finally {
      await handle.close();
    }
    if (cut.offset > records) await this.rewrite(roomId, room, cut);
  }

  /** Replaces the room's file by a version-2 file holding its records from `cut` on (copied a window at a time). */
  private async rewrite(roomId: string, room: RoomState, cut: Checkpoint): Promise<void> {
    const path = this.path(roomId);
    const tmp = `${path}.tmp`;
    const source = await open(path, 'r');
    const target = await open(tmp, 'w');
    try {
      await target.write(encodeRoomFileHeader(cut.position));
      const buffer = new Uint8Array(1024 * 1024);
      for (let at = cut.offset; at < room.bytes; ) {
        const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, room.bytes - at), at);
        if (bytesRead === 0) break;
        await target.write(buffer.subarray(0, bytesRead));
        at += bytesRead;
      }
    } finally {
      await source.close();
      await target.close();
    }
    await rename(tmp, path);
    const loaded = room.loaded as LoadedRoom;
    const shift = ROOM_FILE_HEADER_BYTES - cut.offset;
    const kept = loaded.checkpoints.filter((c) => c.position > cut.position).map((c) => ({ position: c.position, offset: c.offset + shift }));
    // Keep checkpoints every CHECKPOINT_EVERY from the new first record: their spacing only bounds the walk of a replay start.
    loaded.checkpoints = cut.position < loaded.nextPosition ? [{ position: cut.position, offset: ROOM_FILE_HEADER_BYTES }, ...kept] : [];
    loaded.layout = { headerBytes: ROOM_FILE_HEADER_BYTES, firstPosition: cut.position };
    const newBytes = ROOM_FILE_HEADER_BYTES + (room.bytes - cut.offset);
    this.bytesTrimmed += Math.max(0, room.bytes - newBytes);
    this.resize(room, newBytes);
    // Replays already running keep the file they opened; new ones open this one.
    room.reader = undefined;
  }

  /** Schedules evictions of the least recently written rooms (never `current`) until the total fits. */
  private evictBeyondTotal(current: string | undefined): void {
    let over = this.totalBytes - this.evictingBytes - this.totalBytesMax;
    for (const [roomId, room] of this.rooms) {
      if (over <= 0) return;
      if (roomId === current || room.evictingBytes > 0) continue;
      room.evictingBytes = Math.max(1, room.bytes);
      this.evictingBytes += room.evictingBytes;
      over -= room.evictingBytes;
      void this.serial(roomId, async () => {
        if (this.rooms.get(roomId) !== room) return; // already gone (forgotten, and its share released, on the way)
        const bytes = room.bytes;
        await this.remove(roomId, room);
        this.roomsEvicted += 1;
        this.bytesEvicted += bytes;
      });
    }
  }

  /** Deletes the room's file and forgets it (replays running on it finish on the unlinked file). */
  private async remove(roomId: string, room: RoomState): Promise<void> {
    await rm(this.path(roomId), { force: true });
    this.forget(roomId, room);
  }

  private forget(roomId: string, room: RoomState): void {
    this.resize(room, 0);
    this.evictingBytes -= room.evictingBytes;
    room.evictingBytes = 0;
    room.loaded = undefined;
    room.reader = undefined;
    if (this.rooms.get(roomId) === room) this.rooms.delete(roomId);
  }

  private resize(room: RoomState, bytes: number): void {
    this.totalBytes += bytes - room.bytes;
    room.bytes = bytes;
  }

  /** Where a replay of `range` starts and ends, with the shared handle it reads; undefined when there is nothing to send. */
  private async startReplay(roomId: string, range: ReplayRange): Promise<{ room: RoomState; reader: SharedReader; from: Checkpoint; end: number } | undefined> {
    const room = await this.load(roomId, false);
    const loaded = room?.loaded;
    if (room === undefined || loaded === undefined) return undefined;
    let start = loaded.layout.firstPosition;
    if (range.afterPosition !== undefined) start = Math.max(start, range.afterPosition + 1);
    if (range.framesMax !== undefined) start = Math.max(start, loaded.nextPosition - range.framesMax);
    if (start >= loaded.nextPosition) return undefined;
    const reader = room.reader ?? { handle: await open(this.path(roomId), 'r'), users: 0 };
    room.reader = reader;
    reader.users += 1;
    try {
      const checkpoint = checkpointBefore(loaded.checkpoints, start) ?? { position: loaded.layout.firstPosition, offset: loaded.layout.headerBytes };
      const from = checkpoint.position === start ? checkpoint : await walkRecords(reader.handle, checkpoint, room.bytes, (head) => head.position < start);
      return { room, reader, from, end: room.bytes };
    } catch (error) {
      await this.release(room, reader);
      throw error;
    }
  }

  private async release(room: RoomState, reader: SharedReader): Promise<void> {
    reader.users -= 1;
    if (reader.users > 0) return;
    if (room.reader === reader) room.reader = undefined;
    await reader.handle.close().catch(() => undefined);
  }

  private path(roomId: string): string {
    return join(this.options.dir, `${roomId}.frames`);
  }

  /** Creates the directory, removes temporary files of an interrupted rewrite, and registers every room file by age. */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.options.dir, { recursive: true });
      const found: { roomId: string; bytes: number; mtimeMs: number }[] = [];
      for (const name of await readdir(this.options.dir)) {
        if (name.endsWith('.frames.tmp')) await rm(join(this.options.dir, name), { force: true });
        if (!ROOM_FILE.test(name)) continue;
        const info = await stat(join(this.options.dir, name)).catch(() => undefined);
        if (info !== undefined) found.push({ roomId: name.slice(0, -'.frames'.length), bytes: info.size, mtimeMs: info.mtimeMs });
      }
      found.sort((a, b) => a.mtimeMs - b.mtimeMs);
      for (const f of found) {
        const room: RoomState = { bytes: 0, lastWriteMs: f.mtimeMs, loaded: undefined, reader: undefined, evictingBytes: 0 };
        this.rooms.set(f.roomId, room);
        this.resize(room, f.bytes);
      }
      this.evictBeyondTotal(undefined);
    })();
    return this.ready;
  }

  private serial<T>(roomId: string, step: () => Promise<T>): Promise<T | undefined> {
    const previous = this.chains.get(roomId) ?? Promise.resolve();
    const next = previous.then(async () => {
      await this.init();
      return step();
    }).catch(() => {
      this.failures += 1;
      return undefined;
    });
    this.chains.set(roomId, next);
    void next.then(() => {
      if (this.chains.get(roomId) === next) this.chains.delete(roomId);
    });
    return next;
  }
}
