/**
 * The on-disk format of the file log (see docs/storage-format.md): file names,
 * segment headers and record framing. Pure byte manipulation, no I/O.
 *
 * Segment file `log-<index>.tlog`: a 16-byte header, then records back to back.
 *   header: magic "TLOG" | u16 version | u16 reserved (0) | u32 segment index | u32 CRC32C of the 12 bytes before
 *   record: u32 payload length | u32 CRC32C over (length field + payload) | payload
 * Snapshot file `snap-<index>.snap`: header with magic "TSNP", then exactly one record.
 * All integers little-endian.
 */
import { crc32c } from '../../core/crc32c.js';

/** Version of the segment and snapshot format written by this code. */
export const FILE_FORMAT_VERSION = 1;
/** Bytes of a segment or snapshot file header. */
export const FILE_HEADER_BYTES = 16;
/** Bytes of a record header (length + checksum). */
export const RECORD_HEADER_BYTES = 8;
/**
 * Largest record payload accepted (just under 512 MiB): bounds what a corrupt length
 * field can make the reader hash, and keeps the length's high byte below 0x20 (see scan.ts).
 */
export const RECORD_PAYLOAD_BYTES_MAX = 0x1fff_ffff;

/** The two kinds of framed file. */
export type FileKind = 'segment' | 'snapshot';

const MAGIC: Record<FileKind, number> = { segment: 0x474f4c54 /* "TLOG" */, snapshot: 0x504e5354 /* "TSNP" */ };

const SEGMENT_NAME = /^log-(\d{10})\.tlog$/;
const SNAPSHOT_NAME = /^snap-(\d{10})\.snap$/;

/** File name of segment `index`. */
export function segmentName(index: number): string {
  return `log-${String(index).padStart(10, '0')}.tlog`;
}

/** File name of the snapshot whose tail starts at segment `index`. */
export function snapshotName(index: number): string {
  return `snap-${String(index).padStart(10, '0')}.snap`;
}

/** The index in a segment file name, or undefined for any other name. */
export function parseSegmentName(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The index in a snapshot file name, or undefined for any other name. */
export function parseSnapshotName(name: string): number | undefined {
  const m = SNAPSHOT_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Builds the 16-byte header of a segment or snapshot file. */
export function encodeFileHeader(kind: FileKind, index: number): Uint8Array {
  const bytes = new Uint8Array(FILE_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC[kind], true);
  view.setUint16(4, FILE_FORMAT_VERSION, true);
  view.setUint16(6, 0, true);
  view.setUint32(8, index, true);
  view.setUint32(12, crc32c(bytes, 0, 12), true);
  return bytes;
}

/** Why a header was rejected, or undefined when it is valid for `kind` and `index`. */
export function checkFileHeader(bytes: Uint8Array, kind: FileKind, index: number): string | undefined {
  if (bytes.length < FILE_HEADER_BYTES) return `file is ${bytes.length} bytes, shorter than its ${FILE_HEADER_BYTES}-byte header`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, FILE_HEADER_BYTES);
  if (view.getUint32(12, true) !== crc32c(bytes, 0, 12)) return 'header checksum mismatch';
  if (view.getUint32(0, true) !== MAGIC[kind]) return `not a ${kind} file (bad magic)`;
  const version = view.getUint16(4, true);
  if (version !== FILE_FORMAT_VERSION) return `format version ${version} is not supported (expected ${FILE_FORMAT_VERSION})`;
  if (view.getUint32(8, true) !== index) return `header names index ${view.getUint32(8, true)}, but the file name says ${index}`;
  return undefined;
}

/** Frames a payload as one record: length, checksum, payload. */
export function encodeRecord(payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
  bytes.set(payload, RECORD_HEADER_BYTES);
  return frameRecordInPlace(bytes, payload.length);
}

/**
 * Frames a payload already placed at `bytes[RECORD_HEADER_BYTES..]` (saves a copy on the commit path):
 * writes its length and checksum in front and returns the record, a view of `bytes`.
 */
export function frameRecordInPlace(bytes: Uint8Array, payloadLength: number): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, RECORD_HEADER_BYTES);
  const end = RECORD_HEADER_BYTES + payloadLength;
  view.setUint32(0, payloadLength, true);
  // The checksum covers the length too, so a flipped length bit cannot frame a wrong record.
  view.setUint32(4, crc32c(bytes, RECORD_HEADER_BYTES, end, crc32c(bytes, 0, 4)), true);
  return bytes.subarray(0, end);
}

/** A record found in a file. */
export interface FramedRecord {
  /** Byte offset of the record header in the file. */
  readonly offset: number;
  /** The payload (a view into the file's bytes). */
  readonly payload: Uint8Array;
}

/**
 * Reads the record at `offset` if one is there, intact. Returns undefined for
 * anything else: too few bytes, an implausible length, a checksum mismatch.
 */
export function readRecordAt(bytes: Uint8Array, offset: number): FramedRecord | undefined {
  if (offset + RECORD_HEADER_BYTES > bytes.length) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, RECORD_HEADER_BYTES);
  const length = view.getUint32(0, true);
  // Zero-length records are never written; a zero-filled tail (a file extended by a crash) must not parse.
  if (length === 0 || length > RECORD_PAYLOAD_BYTES_MAX) return undefined;
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > bytes.length) return undefined;
  const crc = crc32c(bytes, offset + RECORD_HEADER_BYTES, end, crc32c(bytes, offset, offset + 4));
  if (crc !== view.getUint32(4, true)) return undefined;
  return { offset, payload: bytes.subarray(offset + RECORD_HEADER_BYTES, end) };
}
