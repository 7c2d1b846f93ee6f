/**
 * The disk store's file of one room (`<roomId>.frames`), and reading it without loading it.
 *
 * Version 2 (written since issue 21): a 16-byte header, `[u32 magic "TRF2"][u16 version 2][u16 0]
 * [f64 position of the first record]`, then records `[u32 frameBytes][f64 storedAtMs][frame]`
 * (big-endian). Positions are not stored per record: the n-th record of the file has the header's
 * position + n. Version 1 files (no header, the same records) are read as if their first position were
 * 1, and rewritten with a header the first time the store touches them.
 *
 * A crash mid-append leaves a torn last record (shorter than its header says): scans stop there and
 * the store cuts it before its next append.
 */
import type { FileHandle } from 'node:fs/promises';
import { DecodeError } from '../core/errors.js';
import type { StoredFrame } from './frame-store.js';

/** "TRF2", big-endian. */
const MAGIC = 0x54524632;
/** The layout version in the header. */
export const ROOM_FILE_VERSION = 2;
/** Bytes of the header of a version-2 file. */
export const ROOM_FILE_HEADER_BYTES = 16;
/** Bytes in front of each frame. */
export const RECORD_HEADER_BYTES = 12;
/** One checkpoint (position, offset) kept every this many records, so a replay from a position reads few headers. */
export const CHECKPOINT_EVERY = 256;
const WINDOW_BYTES = 64 * 1024;

/** Where the records of a file start and which position the first one has. */
export interface RoomFileLayout {
  /** 16 for version 2, 0 for a version-1 file. */
  readonly headerBytes: number;
  /** Position of the first record. */
  readonly firstPosition: number;
}

/** A record's place in the file. */
export interface Checkpoint {
  readonly position: number;
  readonly offset: number;
}

/** What a walk over the record headers found. */
export interface RoomScan {
  /** Offset just after the last whole record (a torn tail starts here). */
  readonly validEnd: number;
  /** Position the next record gets. */
  readonly nextPosition: number;
  /** Every {@link CHECKPOINT_EVERY}-th record, in file order (the first record always). */
  readonly checkpoints: Checkpoint[];
}

/** The header of a version-2 file. */
export function encodeRoomFileHeader(firstPosition: number): Uint8Array {
  const bytes = new Uint8Array(ROOM_FILE_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC);
  view.setUint16(4, ROOM_FILE_VERSION);
  view.setFloat64(8, firstPosition);
  return bytes;
}

/** One record. */
export function encodeRecord(frame: Uint8Array, storedAtMs: number): Uint8Array {
  const record = new Uint8Array(RECORD_HEADER_BYTES + frame.length);
  const view = new DataView(record.buffer);
  view.setUint32(0, frame.length);
  view.setFloat64(4, storedAtMs);
  record.set(frame, RECORD_HEADER_BYTES);
  return record;
}

async function readAt(handle: FileHandle, offset: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let read = 0;
  while (read < length) {
    const { bytesRead } = await handle.read(buffer, read, length - read, offset + read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  return read === length ? buffer : buffer.subarray(0, read);
}

/**
 * The layout of a file of `size` bytes. A version-1 file cannot start with the magic (its first bytes
 * are a frame length, and no frame is 1.4 GB).
 * @throws DecodeError for a header of an unknown version (a newer relay's file: left alone).
 */
export async function readLayout(handle: FileHandle, size: number): Promise<RoomFileLayout> {
  if (size < 4) return { headerBytes: 0, firstPosition: 1 };
  const head = await readAt(handle, 0, Math.min(size, ROOM_FILE_HEADER_BYTES));
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (view.getUint32(0) !== MAGIC) return { headerBytes: 0, firstPosition: 1 };
  if (head.length < ROOM_FILE_HEADER_BYTES) throw new DecodeError('room file header truncated', { bytes: head.length });
  const version = view.getUint16(4);
  if (version !== ROOM_FILE_VERSION) throw new DecodeError(`room file version ${version} is not supported`, { version });
  const firstPosition = view.getFloat64(8);
  if (!Number.isSafeInteger(firstPosition) || firstPosition < 1) throw new DecodeError('room file header has a bad first position', { firstPosition });
  return { headerBytes: ROOM_FILE_HEADER_BYTES, firstPosition };
}

/** A record header seen by {@link walkRecords}. */
export interface RecordHead {
  readonly position: number;
  readonly offset: number;
  readonly frameBytes: number;
  readonly storedAtMs: number;
}

/**
 * Visits record headers from `from` (a record boundary with position `position`) up to `end`, reading
 * 64 KiB windows (a record larger than a window costs one read of its header). Stops at a torn record
 * or when `visit` returns false. Resolves with the offset and position where it stopped.
 */
export async function walkRecords(
  handle: FileHandle,
  from: Checkpoint,
  end: number,
  visit: (head: RecordHead) => boolean,
): Promise<Checkpoint> {
  let offset = from.offset;
  let position = from.position;
  let window: Uint8Array = new Uint8Array(0);
  let windowAt = 0;
  while (offset + RECORD_HEADER_BYTES <= end) {
    if (offset < windowAt || offset + RECORD_HEADER_BYTES > windowAt + window.length) {
      window = await readAt(handle, offset, Math.min(WINDOW_BYTES, end - offset));
      windowAt = offset;
      if (window.length < RECORD_HEADER_BYTES) break;
    }
    const view = new DataView(window.buffer, window.byteOffset + (offset - windowAt), RECORD_HEADER_BYTES);
    const frameBytes = view.getUint32(0);
    if (offset + RECORD_HEADER_BYTES + frameBytes > end) break; // torn tail
    if (!visit({ position, offset, frameBytes, storedAtMs: view.getFloat64(4) })) break;
    offset += RECORD_HEADER_BYTES + frameBytes;
    position += 1;
  }
  return { position, offset };
}

/** Walks a whole file: where its records end, the next position, the checkpoints. */
export async function scanRoomFile(handle: FileHandle, size: number, layout: RoomFileLayout): Promise<RoomScan> {
  const checkpoints: Checkpoint[] = [];
  const end = await walkRecords(handle, { position: layout.firstPosition, offset: layout.headerBytes }, size, (head) => {
    if ((head.position - layout.firstPosition) % CHECKPOINT_EVERY === 0) checkpoints.push({ position: head.position, offset: head.offset });
    return true;
  });
  return { validEnd: end.offset, nextPosition: end.position, checkpoints };
}

/** The last checkpoint at or before `position` (there is always one: the first record's). */
export function checkpointBefore(checkpoints: readonly Checkpoint[], position: number): Checkpoint | undefined {
  let lo = 0;
  let hi = checkpoints.length - 1;
  let found: Checkpoint | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = checkpoints[mid] as Checkpoint;
    if (c.position <= position) {
      found = c;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * Reads the records from `from` up to `end` a page at a time: a fresh buffer of at most `pageBytesMax`
 * per page (or one record, if larger), each frame a view into it. `keep` filters by position and age.
 */
export async function* readPages(
  handle: FileHandle,
  from: Checkpoint,
  end: number,
  pageBytesMax: number,
  keep: (position: number, storedAtMs: number) => boolean,
): AsyncGenerator<StoredFrame[]> {
  let offset = from.offset;
  let position = from.position;
  while (offset + RECORD_HEADER_BYTES <= end) {
    let page = await readAt(handle, offset, Math.min(pageBytesMax, end - offset));
    if (page.length < RECORD_HEADER_BYTES) return;
    let view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    const firstBytes = RECORD_HEADER_BYTES + view.getUint32(0);
    if (offset + firstBytes > end) return; // torn (cannot happen below a scanned end, but never read past it)
    if (firstBytes > page.length) {
      page = await readAt(handle, offset, firstBytes);
      if (page.length < firstBytes) return;
      view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    }
    const frames: StoredFrame[] = [];
    let at = 0;
    while (at + RECORD_HEADER_BYTES <= page.length) {
      const frameBytes = view.getUint32(at);
      const next = at + RECORD_HEADER_BYTES + frameBytes;
      if (next > page.length) break;
      if (keep(position, view.getFloat64(at + 4))) frames.push({ position, frame: page.subarray(at + RECORD_HEADER_BYTES, next) });
      at = next;
      position += 1;
    }
    offset += at;
    if (frames.length > 0) yield frames;
  }
}
