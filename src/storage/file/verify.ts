/** Read-only verification of a database directory: every record and snapshot, every problem listed. */
import * as fs from 'node:fs';
import { InvalidArgumentError } from '../../core/errors.js';
import { type DamageFinding, recoverDirectory } from './recovery.js';

/** What `verifyDirectory` found. */
export interface VerifyReport {
  /** True when nothing at all is wrong. */
  readonly ok: boolean;
  /** Every problem, in file order. Torn tails are listed too: the next open cuts them off. */
  readonly damage: readonly DamageFinding[];
  /** The snapshot that verified, if any. */
  readonly snapshotFile: string | undefined;
  /** Segment files read. */
  readonly segmentsRead: number;
  /** Intact records read. */
  readonly recordsRead: number;
  /** Ops in those records. */
  readonly opsRead: number;
}

/** Checks every record and snapshot of the database in `dir` without changing anything or taking the lock. */
export function verifyDirectory(dir: string): VerifyReport {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new InvalidArgumentError(`${dir} is not a directory`);
  const { report } = recoverDirectory(dir, { readOnly: true, repair: false, collectAll: true });
  return {
    ok: report.damage.length === 0,
    damage: report.damage,
    snapshotFile: report.snapshotFile,
    segmentsRead: report.segmentsRead,
    recordsRead: report.recordsRead,
    opsRead: report.opsRead,
  };
}
