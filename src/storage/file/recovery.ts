/**
 * Open means recover: read the newest snapshot and every segment after it, verify
 * every record, and decide what damage means. A torn tail (nothing intact after
 * the damage) is cut off and reported; damage with intact records after it is never
 * skipped: it is a {@link StorageCorruptError} naming the file and offset, unless a
 * repair was asked for, which keeps the prefix and moves the rest to `damaged/`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeOps } from '../../core/codec.js';
import { StorageCorruptError } from '../../core/errors.js';
import type { Op } from '../../core/op.js';
import type { Snapshot, StorageMeta } from '../../core/storage.js';
import { fsyncDir } from './atomic.js';
import { FILE_HEADER_BYTES, parseSegmentName, parseSnapshotName, RECORD_HEADER_BYTES, segmentName, snapshotName } from './format.js';
import { type DamagedSpan, scanFile } from './scan.js';
import { decodeMeta, decodeSnapshotPayload } from '../snapshot-codec.js';

/** Name of the metadata file. */
export const META_FILE = 'meta.json';
/** Folder that repair moves damaged bytes into. */
export const DAMAGED_DIR = 'damaged';

/** How to treat what is found. */
export interface RecoveryMode {
  /** Change nothing on disk (inspect, verify). */
  readonly readOnly: boolean;
  /** Keep everything before mid-log damage and move the rest to `damaged/` instead of failing. */
  readonly repair: boolean;
  /** Report every problem instead of failing on the first (verify). */
  readonly collectAll: boolean;
}

/** One problem found on disk. */
export interface DamageFinding {
  /** File name inside the database directory. */
  readonly file: string;
  /** Byte offset of the first bad byte. */
  readonly offset: number;
  /** Bytes affected. */
  readonly bytes: number;
  /** What is wrong. */
  readonly reason: string;
  /** `torn-tail`: an interrupted write, safely cut off. `corrupt`: damage with valid data after it. */
  readonly kind: 'torn-tail' | 'corrupt';
}

/** What recovery found and did. Exposed as `FileStorage.recovery`. */
export interface RecoveryReport {
  /** The snapshot loaded, if any. */
  readonly snapshotFile: string | undefined;
  /** Segment files read. */
  readonly segmentsRead: number;
  /** Intact records (committed batches) read. */
  readonly recordsRead: number;
  /** Ops in those records. */
  readonly opsRead: number;
  /** Bytes of torn tail cut off (unacknowledged writes interrupted by a crash). */
  readonly bytesDropped: number;
  /** Bytes moved to `damaged/` by a repair. */
  readonly bytesMovedAside: number;
  /** Every problem found. */
  readonly damage: readonly DamageFinding[];
  /** Files written into `damaged/` by a repair. */
  readonly movedAside: readonly string[];
  /** Obsolete files removed: segments and snapshots a newer snapshot supersedes, temporary files. */
  readonly removedFiles: readonly string[];
}

/** A segment still in use, with what is needed to decide when a snapshot makes it obsolete. */
export interface SegmentState {
  /** Index in the file name. */
  readonly index: number;
  /** Valid length in bytes. */
  bytes: number;
  /** Highest seq per replica among its ops: covered by a snapshot base means the segment is obsolete. */
  readonly maxSeq: Map<string, number>;
}

/** Everything recovered from a directory. */
export interface RecoveredLog {
  /** The verified `meta.json`, absent for a new database. */
  readonly meta: StorageMeta | undefined;
  /** The newest verified snapshot. */
  readonly snapshot: Snapshot | undefined;
  /** Index of the loaded snapshot (the first segment it does not cover), 0 if none. */
  readonly snapshotIndex: number;
  /** Every intact batch after the snapshot, in log order. */
  readonly batches: Op[][];
  /** The segments kept, in order (the last one receives appends). */
  readonly segments: SegmentState[];
  /** What was found and done. */
  readonly report: RecoveryReport;
}

interface ScannedSegment {
  readonly index: number;
  readonly file: string;
  readonly bytes: Uint8Array;
  /** Records that are intact and decode, with their ops. */
  readonly records: { offset: number; end: number; ops: Op[] }[];
  /** Damage in file order; `decode` marks intact records whose payload does not decode. */
  readonly damage: (DamagedSpan & { decode?: boolean })[];
}

/** Mutable accumulator behind the report. */
interface ReportDraft {
  snapshotFile: string | undefined;
  segmentsRead: number;
  recordsRead: number;
  opsRead: number;
  bytesDropped: number;
  bytesMovedAside: number;
  damage: DamageFinding[];
  movedAside: string[];
  removedFiles: string[];
}

/** Recovers the database in `dir` (which must exist). */
export function recoverDirectory(dir: string, mode: RecoveryMode): RecoveredLog {
  const report: ReportDraft = { snapshotFile: undefined, segmentsRead: 0, recordsRead: 0, opsRead: 0, bytesDropped: 0, bytesMovedAside: 0, damage: [], movedAside: [], removedFiles: [] };
  const names = fs.readdirSync(dir);
  if (!mode.readOnly) removeTempFiles(dir, names, report);
  const meta = readMeta(dir, mode, report);
  const { snapshot, snapshotIndex } = loadNewestSnapshot(dir, names, mode, report);
  const indexes = names.map(parseSegmentName).filter((i): i is number => i !== undefined).sort((a, b) => a - b);
  const obsolete = indexes.filter((i) => i < snapshotIndex);
  if (!mode.readOnly) for (const index of obsolete) removeFile(dir, segmentName(index), report);
  const live = indexes.filter((i) => i >= snapshotIndex);
  const scanned = live.map((index) => scanSegment(dir, index));
  report.segmentsRead = scanned.length;
  const kept = resolveDamage(dir, scanned, snapshot !== undefined ? snapshotIndex : undefined, mode, report);
  const batches: Op[][] = [];
  const segments: SegmentState[] = [];
  for (const segment of kept) {
    const maxSeq = new Map<string, number>();
    for (const record of segment.records) {
      batches.push(record.ops);
      report.recordsRead += 1;
      report.opsRead += record.ops.length;
      for (const op of record.ops) if (op.seq > (maxSeq.get(op.replica) ?? 0)) maxSeq.set(op.replica, op.seq);
    }
    segments.push({ index: segment.index, bytes: segment.records.at(-1)?.end ?? FILE_HEADER_BYTES, maxSeq });
  }
  // A meta.json that is there but does not decode is reported as damaged already: not as missing too.
  const metaDamaged = report.damage.some((finding) => finding.file === META_FILE);
  if (meta === undefined && !metaDamaged && (snapshot !== undefined || batches.length > 0)) {
    corrupt(mode, report, { file: META_FILE, offset: 0, bytes: 0, reason: 'meta.json is missing but the directory holds data', kind: 'corrupt' });
  }
  return { meta, snapshot, snapshotIndex, batches, segments, report };
}

function corrupt(mode: RecoveryMode, report: ReportDraft, finding: DamageFinding): void {
  report.damage.push(finding);
  if (mode.collectAll || mode.repair) return;
  throw new StorageCorruptError(`${finding.file} is damaged at byte ${finding.offset}: ${finding.reason}`, { file: finding.file, offset: finding.offset, reason: finding.reason });
}

function removeTempFiles(dir: string, names: readonly string[], report: ReportDraft): void {
  for (const name of names) if (name.endsWith('.tmp')) removeFile(dir, name, report);
}

function removeFile(dir: string, name: string, report: ReportDraft): void {
  fs.rmSync(path.join(dir, name), { force: true });
  report.removedFiles.push(name);
}

function readMeta(dir: string, mode: RecoveryMode, report: ReportDraft): StorageMeta | undefined {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path.join(dir, META_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return decodeMeta(bytes);
  } catch (error) {
    // meta.json is replaced atomically, so a bad one is damage, never a torn write. Even a repair
    // stops here: without it the replica would silently take a new id.
    const finding: DamageFinding = { file: META_FILE, offset: 0, bytes: bytes.length, reason: (error as Error).message, kind: 'corrupt' };
    if (mode.collectAll) {
      report.damage.push(finding);
      return undefined;
    }
    throw new StorageCorruptError(`${META_FILE} is damaged (${finding.reason}); restore it from a backup (it only holds the replica id) before opening`, {
      file: META_FILE,
      offset: 0,
      reason: finding.reason,
    });
  }
}

/** Loads the newest snapshot that verifies. A newer one that does not is damage (snapshots are renamed into place whole). */
function loadNewestSnapshot(dir: string, names: readonly string[], mode: RecoveryMode, report: ReportDraft): { snapshot: Snapshot | undefined; snapshotIndex: number } {
  const indexes = names.map(parseSnapshotName).filter((i): i is number => i !== undefined).sort((a, b) => b - a);
  for (const index of indexes) {
    const file = snapshotName(index);
    const bytes = fs.readFileSync(path.join(dir, file));
    const problem = checkSnapshotFile(bytes, index);
    if ('snapshot' in problem) {
      report.snapshotFile = file;
      // Older snapshots were superseded; a crash between rename and cleanup leaves them behind.
      if (!mode.readOnly) for (const older of indexes.filter((i) => i < index)) removeFile(dir, snapshotName(older), report);
      return { snapshot: problem.snapshot, snapshotIndex: index };
    }
    corrupt(mode, report, { file, offset: problem.offset, bytes: bytes.length - problem.offset, reason: problem.reason, kind: 'corrupt' });
    if (mode.repair && !mode.readOnly) moveAside(dir, file, bytes, 0, report);
  }
  return { snapshot: undefined, snapshotIndex: 0 };
}

/** Verifies a snapshot file: one intact record that decodes, nothing after it. */
export function checkSnapshotFile(bytes: Uint8Array, index: number): { snapshot: Snapshot } | { offset: number; reason: string } {
  const scan = scanFile(bytes, 'snapshot', index);
  const first = scan.damage[0];
  if (first !== undefined) return { offset: first.offset, reason: first.reason };
  const record = scan.records[0];
  if (record === undefined) return { offset: FILE_HEADER_BYTES, reason: 'snapshot holds no record' };
  if (scan.records.length > 1) return { offset: scan.records[1]?.offset ?? 0, reason: 'snapshot holds more than one record' };
  try {
    return { snapshot: decodeSnapshotPayload(record.payload) };
  } catch (error) {
    return { offset: record.offset, reason: `snapshot payload does not decode: ${(error as Error).message}` };
  }
}

function scanSegment(dir: string, index: number): ScannedSegment {
  const file = segmentName(index);
  const bytes = fs.readFileSync(path.join(dir, file));
  const scan = scanFile(bytes, 'segment', index);
  const records: ScannedSegment['records'] = [];
  const damage: ScannedSegment['damage'] = [...scan.damage];
  for (const record of scan.records) {
    try {
      records.push({ offset: record.offset, end: record.offset + RECORD_HEADER_BYTES + record.payload.length, ops: decodeOps(record.payload) });
    } catch (error) {
      // The checksum matched, so this is no torn write: never drop it silently.
      damage.push({ offset: record.offset, bytes: RECORD_HEADER_BYTES + record.payload.length, reason: `record payload does not decode: ${(error as Error).message}`, decode: true });
    }
  }
  damage.sort((a, b) => a.offset - b.offset);
  return { index, file, bytes, records, damage };
}

/**
 * Finds the first damage across the segments and acts on it. Returns the segments
 * to load, with records after the damage removed.
 */
function resolveDamage(dir: string, segments: ScannedSegment[], expectedFirst: number | undefined, mode: RecoveryMode, report: ReportDraft): ScannedSegment[] {
  const first = firstDamage(segments, expectedFirst);
  if (first === undefined) return segments;
  if (mode.collectAll) {
    // verify: list every problem, change nothing.
    for (const finding of allDamage(segments, expectedFirst)) report.damage.push(finding);
    return segments;
  }
  const { position, offset, finding } = first;
  const tail = finding.kind === 'torn-tail';
  report.damage.push(finding);
  if (!tail && !mode.repair) {
    throw new StorageCorruptError(
      `${finding.file} is damaged at byte ${offset} (${finding.reason}) and intact records follow, so this is not an interrupted write. ` +
        'Nothing was changed. `tidelog repair <dir>` (or opening with { repair: true }) keeps everything before the damage and moves the rest to damaged/; `tidelog verify <dir>` lists every problem.',
      { file: finding.file, offset, reason: finding.reason },
    );
  }
  const keptSegments = segments.slice(0, position + 1);
  const cut = segments[position];
  if (cut !== undefined) keptSegments[position] = { ...cut, records: cut.records.filter((r) => r.end <= offset), damage: [] };
  if (mode.readOnly) return offset === 0 && cut !== undefined ? keptSegments.slice(0, position) : keptSegments;
  const dropped = segments.slice(position + 1);
  if (tail) {
    report.bytesDropped += (cut === undefined ? 0 : cut.bytes.length - offset) + dropped.reduce((sum, s) => sum + s.bytes.length, 0);
  } else {
    if (cut !== undefined) moveAside(dir, cut.file, cut.bytes, offset, report);
    for (const segment of dropped) moveAside(dir, segment.file, segment.bytes, 0, report);
  }
  for (const segment of dropped) fs.rmSync(path.join(dir, segment.file), { force: true });
  if (cut !== undefined) truncateSegment(dir, cut.file, offset);
  fsyncDir(dir);
  return offset === 0 && cut !== undefined ? keptSegments.slice(0, position) : keptSegments;
}

/** Cuts a segment at `offset`; a segment whose header is gone is removed entirely. */
function truncateSegment(dir: string, file: string, offset: number): void {
  const full = path.join(dir, file);
  if (offset < FILE_HEADER_BYTES) {
    fs.rmSync(full, { force: true });
    return;
  }
  const fd = fs.openSync(full, 'r+');
  try {
    fs.ftruncateSync(fd, offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Copies `bytes[from..]` of `file` into `damaged/` for the user to inspect. */
function moveAside(dir: string, file: string, bytes: Uint8Array, from: number, report: ReportDraft): void {
  if (from >= bytes.length) return;
  const damagedDir = path.join(dir, DAMAGED_DIR);
  fs.mkdirSync(damagedDir, { recursive: true });
  let target = from === 0 ? file : `${file}.from-${from}`;
  for (let n = 1; fs.existsSync(path.join(damagedDir, target)); n++) target = `${from === 0 ? file : `${file}.from-${from}`}.${n}`;
  const fd = fs.openSync(path.join(damagedDir, target), 'w');
  try {
    fs.writeSync(fd, bytes, from, bytes.length - from);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fsyncDir(damagedDir);
  if (from === 0) fs.rmSync(path.join(dir, file), { force: true });
  report.movedAside.push(path.join(DAMAGED_DIR, target));
  report.bytesMovedAside += bytes.length - from;
}

interface LocatedDamage {
  /** Index into the segment list of the damaged (or first missing-after) segment; may equal the list length for none. */
  readonly position: number;
  readonly offset: number;
  readonly finding: DamageFinding;
}

function hasRecordsAfter(segments: readonly ScannedSegment[], position: number, offset: number): boolean {
  const here = segments[position];
  if (here?.records.some((r) => r.offset > offset)) return true;
  return segments.slice(position + 1).some((s) => s.records.length > 0 || s.damage.some((d) => d.decode));
}

function firstDamage(segments: readonly ScannedSegment[], expectedFirst: number | undefined): LocatedDamage | undefined {
  return allLocated(segments, expectedFirst)[0];
}

function allDamage(segments: readonly ScannedSegment[], expectedFirst: number | undefined): DamageFinding[] {
  return allLocated(segments, expectedFirst).map((d) => d.finding);
}

function allLocated(segments: readonly ScannedSegment[], expectedFirst: number | undefined): LocatedDamage[] {
  const out: LocatedDamage[] = [];
  for (let position = 0; position < segments.length; position++) {
    const segment = segments[position] as ScannedSegment;
    const expected = position === 0 ? expectedFirst : (segments[position - 1] as ScannedSegment).index + 1;
    if (expected !== undefined && segment.index !== expected) {
      // A missing segment loses acknowledged data: a gap is corruption, and everything from it on is "the rest".
      const file = segmentName(expected);
      out.push({ position: position - 1, offset: (segments[position - 1]?.bytes.length ?? 0), finding: { file, offset: 0, bytes: 0, reason: `segment ${file} is missing`, kind: 'corrupt' } });
    }
    for (const span of segment.damage) {
      const tail = span.decode !== true && !hasRecordsAfter(segments, position, span.offset);
      out.push({ position, offset: span.offset, finding: { file: segment.file, offset: span.offset, bytes: span.bytes, reason: span.reason, kind: tail ? 'torn-tail' : 'corrupt' } });
    }
  }
  return out;
}
