/**
 * Store-and-forward on disk (`--store <dir>`): one append-only file per room of
 * `[u32 frameBytes][f64 storedAtMs][frame]` records. Bounded per room by bytes and
 * by age: a file that grows past 1.5x its byte bound is rewritten with only the newest
 * frames under the bound; reads skip expired frames; a sweep deletes expired rooms.
 * The relay crashing mid-append leaves a torn last record, which reads ignore.
 * The frames are ciphertext: the relay can keep them, not read them.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FrameStore } from './room-bus.js';

/** Options of {@link DiskFrameStore}. */
export interface DiskFrameStoreOptions {
  /** The directory holding one file per room (created if missing). */
  readonly dir: string;
  /** Bytes of frames kept per room. Default 64 MiB. */
  readonly bytesPerRoomMax?: number;
  /** Oldest frame kept, in ms. Default 7 days. */
  readonly ageMsMax?: number;
  /** The wall clock in ms (tests move it). */
  readonly nowMs?: () => number;
}

const RECORD_HEADER_BYTES = 12;
const ROOM_FILE = /^[A-Za-z0-9_-]{1,128}\.frames$/;

interface Record {
  readonly atMs: number;
  readonly frame: Uint8Array;
}

/** Each room's recent frames in a file under one directory. */
export class DiskFrameStore implements FrameStore {
  private readonly bytesPerRoomMax: number;
  private readonly ageMsMax: number;
  private readonly nowMs: () => number;
  private readonly fileBytes = new Map<string, number>();
  // One chain per room keeps appends, rewrites and reads of a file from interleaving.
  private readonly chains = new Map<string, Promise<unknown>>();
  private ready: Promise<void> | undefined;

  constructor(private readonly options: DiskFrameStoreOptions) {
    this.bytesPerRoomMax = options.bytesPerRoomMax ?? 64 * 1024 * 1024;
    this.ageMsMax = options.ageMsMax ?? 7 * 24 * 3_600_000;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Appends a frame to the room's file; rewrites the file when it outgrew its bound. */
  append(roomId: string, frame: Uint8Array): Promise<boolean> {
    return this.serial(
      roomId,
      async () => {
        const path = this.path(roomId);
        const record = new Uint8Array(RECORD_HEADER_BYTES + frame.length);
        const view = new DataView(record.buffer);
        view.setUint32(0, frame.length);
        view.setFloat64(4, this.nowMs());
        record.set(frame, RECORD_HEADER_BYTES);
        const handle = await open(path, 'a');
        try {
          await handle.write(record);
        } finally {
          await handle.close();
        }
        const size = (this.fileBytes.get(roomId) ?? (await sizeOf(path)) - record.length) + record.length;
        this.fileBytes.set(roomId, size);
        if (size > this.bytesPerRoomMax * 1.5) await this.rewrite(roomId);
        return true;
      },
      false,
    );
  }

  /** The room's unexpired frames, oldest first, at most `countMax` (the newest ones). */
  recent(roomId: string, countMax = Number.POSITIVE_INFINITY): Promise<Uint8Array[]> {
    return this.serial(roomId, async () => {
      const records = this.keep(await this.read(roomId));
      return records.slice(Math.max(0, records.length - countMax)).map((r) => r.frame);
    }, []);
  }

  /** Deletes the files of rooms whose every frame expired. Resolves with the number deleted. */
  async sweep(): Promise<number> {
    await this.init();
    let deleted = 0;
    for (const name of await readdir(this.options.dir)) {
      if (!ROOM_FILE.test(name)) continue;
      const roomId = name.slice(0, -'.frames'.length);
      const removed = await this.serial(
        roomId,
        async () => {
          const info = await stat(this.path(roomId));
          if (this.nowMs() - info.mtimeMs <= this.ageMsMax) return false;
          await rm(this.path(roomId), { force: true });
          this.fileBytes.delete(roomId);
          return true;
        },
        false,
      );
      if (removed) deleted += 1;
    }
    return deleted;
  }

  /** Waits for pending appends. */
  async close(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private async rewrite(roomId: string): Promise<void> {
    const kept = this.keep(await this.read(roomId));
    const parts = kept.map((r) => {
      const record = new Uint8Array(RECORD_HEADER_BYTES + r.frame.length);
      const view = new DataView(record.buffer);
      view.setUint32(0, r.frame.length);
      view.setFloat64(4, r.atMs);
      record.set(r.frame, RECORD_HEADER_BYTES);
      return record;
    });
    const tmp = `${this.path(roomId)}.tmp`;
    await writeFile(tmp, Buffer.concat(parts));
    await rename(tmp, this.path(roomId));
    this.fileBytes.set(
      roomId,
      parts.reduce((n, p) => n + p.length, 0),
    );
  }

  /** Unexpired records, newest kept first within the byte bound. */
  private keep(records: Record[]): Record[] {
    const oldestMs = this.nowMs() - this.ageMsMax;
    let bytes = 0;
    let start = records.length;
    while (start > 0) {
      const r = records[start - 1] as Record;
      if (r.atMs < oldestMs || bytes + r.frame.length > this.bytesPerRoomMax) break;
      bytes += r.frame.length;
      start -= 1;
    }
    return records.slice(start);
  }

  private async read(roomId: string): Promise<Record[]> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path(roomId));
    } catch {
      return [];
    }
    const records: Record[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    // A torn tail (crash mid-append) is shorter than its header says: stop there.
    while (at + RECORD_HEADER_BYTES <= bytes.length) {
      const length = view.getUint32(at);
      if (at + RECORD_HEADER_BYTES + length > bytes.length) break;
      records.push({ atMs: view.getFloat64(at + 4), frame: new Uint8Array(bytes.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + length)) });
      at += RECORD_HEADER_BYTES + length;
    }
    return records;
  }

  private path(roomId: string): string {
    return join(this.options.dir, `${roomId}.frames`);
  }

  private init(): Promise<void> {
    this.ready ??= mkdir(this.options.dir, { recursive: true }).then(() => undefined);
    return this.ready;
  }

  private serial<T>(roomId: string, step: () => Promise<T>, fallback: T): Promise<T> {
    const previous = this.chains.get(roomId) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        await this.init();
        return step();
      })
      .catch(() => fallback);
    this.chains.set(roomId, next);
    void next.then(() => {
      if (this.chains.get(roomId) === next) this.chains.delete(roomId);
    });
    return next;
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
