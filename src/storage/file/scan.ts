/**
 * Scanning one framed file: every intact record, and every damaged span between
 * them. After damage the scanner resynchronizes on the next intact record, so a
 * caller can tell a torn tail (nothing valid follows) from damage in the middle.
 */
import { checkFileHeader, FILE_HEADER_BYTES, type FileKind, type FramedRecord, RECORD_HEADER_BYTES, RECORD_PAYLOAD_BYTES_MAX, readRecordAt } from './format.js';

/** A span of bytes that is not an intact record. */
export interface DamagedSpan {
  /** Offset of the first bad byte. */
  readonly offset: number;
  /** Bytes up to the next intact record (or the end of the file). */
  readonly bytes: number;
  /** What is wrong, for humans. */
  readonly reason: string;
}

/** What a scan found. */
export interface FileScan {
  /** Intact records in file order. */
  readonly records: FramedRecord[];
  /** Damaged spans in file order (the header counts as a span at offset 0). */
  readonly damage: DamagedSpan[];
}

/** Why the bytes at `offset` are not a record (for messages). */
function describeDamage(bytes: Uint8Array, offset: number): string {
  const left = bytes.length - offset;
  if (left < RECORD_HEADER_BYTES) return `partial record header (${left} of ${RECORD_HEADER_BYTES} bytes)`;
  const length = new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0, true);
  if (length === 0) return 'zero record length';
  if (length > RECORD_PAYLOAD_BYTES_MAX) return `record length ${length} exceeds the ${RECORD_PAYLOAD_BYTES_MAX}-byte limit`;
  if (offset + RECORD_HEADER_BYTES + length > bytes.length) return `record of ${length} bytes runs past the end of the file (${left - RECORD_HEADER_BYTES} bytes present)`;
  return 'record checksum mismatch';
}

/**
 * The offset of the next intact record at or after `from`, or -1.
 * @remarks Payloads are JSON, which escapes every byte below 0x20, and every
 * plausible length field has a high byte below 0x20: an intact record cannot hide inside
 * another record's payload, so resynchronizing never invents records.
 */
export function findNextRecord(bytes: Uint8Array, from: number): number {
  for (let offset = from; offset + RECORD_HEADER_BYTES < bytes.length; offset++) {
    if (readRecordAt(bytes, offset) !== undefined) return offset;
  }
  return -1;
}

function isZeroFrom(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Scans a whole segment or snapshot file. `index` is the number in its file name. */
export function scanFile(bytes: Uint8Array, kind: FileKind, index: number): FileScan {
  const records: FramedRecord[] = [];
  const damage: DamagedSpan[] = [];
  let offset = FILE_HEADER_BYTES;
  const headerProblem = checkFileHeader(bytes, kind, index);
  if (headerProblem !== undefined) {
    const next = bytes.length <= FILE_HEADER_BYTES ? -1 : findNextRecord(bytes, FILE_HEADER_BYTES);
    damage.push({ offset: 0, bytes: (next < 0 ? bytes.length : next) - 0, reason: `bad file header: ${headerProblem}` });
    if (next < 0) return { records, damage };
    offset = next;
  }
  while (offset < bytes.length) {
    const record = readRecordAt(bytes, offset);
    if (record !== undefined) {
      records.push(record);
      offset += RECORD_HEADER_BYTES + record.payload.length;
      continue;
    }
    // A segment is preallocated with zeros: an all-zero rest is space not written yet, not damage.
    if (kind === 'segment' && isZeroFrom(bytes, offset)) break;
    const next = findNextRecord(bytes, offset + 1);
    damage.push({ offset, bytes: (next < 0 ? bytes.length : next) - offset, reason: describeDamage(bytes, offset) });
    if (next < 0) break;
    offset = next;
  }
  return { records, damage };
}
