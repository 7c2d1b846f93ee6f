/**
 * `tidelog verify <dir>`: checks every record and snapshot, changes nothing; exit status 1 when anything is damaged.
 * `tidelog repair <dir>`: keeps what is intact before the first damage and moves the rest to `damaged/`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../core/errors.js';
import { FileStorage } from '../storage/file/file-storage.js';
import { parseSegmentName, parseSnapshotName } from '../storage/file/format.js';
import { DAMAGED_DIR, META_FILE } from '../storage/file/recovery.js';
import { verifyDirectory } from '../storage/file/verify.js';
import type { ParsedArgs } from './args.js';
import type { Io } from './command.js';

/** Refuses what is not a database directory: a missing path, a file, an empty directory. */
function checkDatabaseDir(dir: string): void {
  if (!fs.existsSync(dir)) throw new InvalidArgumentError(`${dir} does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new InvalidArgumentError(`${dir} is not a directory`);
  const names = fs.readdirSync(dir).filter((name) => name !== DAMAGED_DIR);
  if (names.length === 0) throw new InvalidArgumentError(`${dir} is empty: not a tidelog database (nothing to verify)`);
  if (!names.includes(META_FILE) && !names.some((name) => parseSegmentName(name) !== undefined || parseSnapshotName(name) !== undefined)) {
    throw new InvalidArgumentError(`${dir} is not a tidelog database (no ${META_FILE}, no log segments, no snapshot)`);
  }
}

/** Verifies `dir`, printing findings; returns the exit status (0 clean, 1 damaged). */
export function runVerify(dir: string, write: (line: string) => void): number {
  checkDatabaseDir(dir);
  const report = verifyDirectory(dir);
  write(`verified ${dir}: ${report.segmentsRead} segments, ${report.recordsRead} intact records, ${report.opsRead} ops, snapshot ${report.snapshotFile ?? '(none)'}`);
  for (const finding of report.damage) {
    const note =
      finding.kind === 'torn-tail'
        ? 'torn tail of an interrupted write; the next open cuts it off'
        : finding.file === META_FILE
          ? 'restore meta.json from a backup'
          : `open fails until repaired: tidelog repair ${dir}`;
    write(`  DAMAGE ${finding.file} at byte ${finding.offset} (${finding.bytes} bytes): ${finding.reason} [${note}]`);
  }
  write(report.ok ? 'ok: every record and snapshot verified' : `damaged: ${report.damage.length} problem(s)`);
  return report.ok ? 0 : 1;
}

/** Repairs `dir`, printing what was kept and what was moved aside. */
export async function runRepair(dir: string, write: (line: string) => void): Promise<number> {
  checkDatabaseDir(dir);
  const before = verifyDirectory(dir);
  if (before.damage.some((finding) => finding.file === META_FILE)) {
    throw new InvalidArgumentError(`${dir}/${META_FILE} is damaged; repair does not guess the replica id it holds: restore ${META_FILE} from a backup`);
  }
  if (before.ok) {
    write(`nothing to repair in ${dir}: ${before.recordsRead} intact records, ${before.opsRead} ops`);
    return 0;
  }
  const storage = await FileStorage.open(dir, { repair: true });
  const report = storage.recovery;
  await storage.close();
  write(`repaired ${dir}: kept ${report.recordsRead} intact records (${report.opsRead} ops)`);
  if (report.bytesDropped > 0) write(`  cut a torn tail of ${report.bytesDropped} bytes (an interrupted, unacknowledged write)`);
  if (report.movedAside.length > 0) write(`  moved ${report.bytesMovedAside} bytes aside to ${path.join(dir, DAMAGED_DIR)}: ${report.movedAside.join(', ')}`);
  const after = verifyDirectory(dir);
  write(after.ok ? 'ok: every record and snapshot verified' : `still damaged: ${after.damage.length} problem(s); run tidelog verify ${dir}`);
  return after.ok ? 0 : 1;
}

/** Runs `tidelog verify <dir>`. */
export async function runVerifyCommand(args: ParsedArgs, io: Io): Promise<number> {
  return runVerify(args.positionals[0] as string, io.out);
}

/** Runs `tidelog repair <dir>`. */
export function runRepairCommand(args: ParsedArgs, io: Io): Promise<number> {
  return runRepair(args.positionals[0] as string, io.out);
}
