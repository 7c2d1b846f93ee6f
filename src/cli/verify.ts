/** `tidelog verify <dir>`: checks every record and snapshot; exit status 1 when anything is damaged. */
import { InvalidArgumentError } from '../core/errors.js';
import { verifyDirectory } from '../storage/file/verify.js';
import type { Command } from './command.js';

/** Verifies `dir`, printing findings; returns the exit status (0 clean, 1 damaged). */
export function runVerify(dir: string, write: (line: string) => void): number {
  const report = verifyDirectory(dir);
  write(`verified ${dir}: ${report.segmentsRead} segments, ${report.recordsRead} records, ${report.opsRead} ops, snapshot ${report.snapshotFile ?? '(none)'}`);
  for (const finding of report.damage) {
    const note = finding.kind === 'torn-tail' ? 'torn tail of an interrupted write; the next open cuts it off' : 'corrupt; open fails until repaired (FileStorage.open(dir, { repair: true }))';
    write(`  DAMAGE ${finding.file} at byte ${finding.offset} (${finding.bytes} bytes): ${finding.reason} [${note}]`);
  }
  write(report.ok ? 'ok: every record and snapshot verified' : `damaged: ${report.damage.length} problem(s)`);
  return report.ok ? 0 : 1;
}

/** The `verify` subcommand. */
export const verifyCommand: Command = {
  name: 'verify',
  usage: 'verify <dir>',
  summary: 'check every record and snapshot of a database; exit status 1 on damage',
  async run(args) {
    const dir = args[0];
    if (dir === undefined || dir.startsWith('--')) throw new InvalidArgumentError('usage: tidelog verify <dir>');
    return runVerify(dir, (line) => process.stdout.write(`${line}\n`));
  },
};
