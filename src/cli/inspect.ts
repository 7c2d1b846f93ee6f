/** `tidelog inspect <dir>`: stats, keys, and one key's history, read-only (works beside a running writer). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../core/errors.js';
import type { Op } from '../core/op.js';
import { Replica } from '../core/replica.js';
import { FileStorage } from '../storage/file/file-storage.js';
import { META_FILE } from '../storage/file/recovery.js';
import { type Command, parseArgs } from './command.js';

const PREVIEW_CHARS_MAX = 80;

function preview(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > PREVIEW_CHARS_MAX ? `${text.slice(0, PREVIEW_CHARS_MAX - 1)}…` : text;
}

function describeOp(op: Op): string {
  const what = op.type === 'set' ? `set ${preview(op.value)}` : 'delete';
  return `${op.replica} #${op.seq} at HLC ${op.wall}.${op.logical}: ${what}`;
}

/** Prints what the database in `dir` holds; `key` switches to that key's history. */
export async function runInspect(dir: string, options: { key?: string; limit: number }, write: (line: string) => void): Promise<void> {
  if (!fs.existsSync(path.join(dir, META_FILE))) throw new InvalidArgumentError(`${dir} is not a tidelog database (no ${META_FILE})`);
  const storage = await FileStorage.open(dir, { readOnly: true });
  const replica = await Replica.open({ storage });
  try {
    if (options.key !== undefined) {
      const history = replica.history(options.key);
      const horizon = replica.historyHorizon();
      write(`history of ${JSON.stringify(options.key)} (${history.length} ops, merge order; the last wins):`);
      for (const op of history) write(`  ${describeOp(op)}`);
      write(`current value: ${replica.has(options.key) ? preview(replica.get(options.key)) : '(none)'}`);
      if (Object.keys(horizon.base).length > 0) write(`history before the compaction horizon ${JSON.stringify(horizon.base)} is summarized by each key's winning op`);
      return;
    }
    const stats = storage.stats();
    const report = storage.recovery;
    write(`database ${dir}`);
    write(`  replica id      ${replica.replicaId}`);
    write(`  segments        ${stats.segments} (${stats.segmentBytes} bytes, ${report.recordsRead} records, ${report.opsRead} ops)`);
    write(`  snapshot        ${stats.snapshotFile === undefined ? '(none)' : `${stats.snapshotFile} (${stats.snapshotBytes} bytes)`}`);
    write(`  version vector  ${JSON.stringify(replica.versionVector())}`);
    write(`  horizon         ${JSON.stringify(replica.horizon())}`);
    write(`  keys            ${replica.size}`);
    if (report.damage.length > 0) write(`  torn tail       ${report.damage.map((d) => `${d.file}@${d.offset} (${d.bytes} bytes)`).join(', ')} (cut off at the next writable open)`);
    const keys = replica.keys();
    for (const key of keys.slice(0, options.limit)) write(`  ${key} = ${preview(replica.get(key))}`);
    if (keys.length > options.limit) write(`  … ${keys.length - options.limit} more (use --limit N)`);
  } finally {
    await replica.close();
  }
}

/** The `inspect` subcommand. */
export const inspectCommand: Command = {
  name: 'inspect',
  usage: 'inspect <dir> [--key k] [--limit N]',
  summary: 'show a database: stats and keys, or one key\'s history (read-only)',
  async run(args) {
    const { positional, options } = parseArgs(args);
    const dir = positional[0];
    if (dir === undefined) throw new InvalidArgumentError('usage: tidelog inspect <dir> [--key k] [--limit N]');
    const key = options.get('key');
    const limitOption = options.get('limit');
    const limit = limitOption === undefined ? 50 : Number(limitOption);
    if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidArgumentError('--limit takes a non-negative integer');
    if (key === true) throw new InvalidArgumentError('--key takes a key');
    await runInspect(dir, { ...(key === undefined ? {} : { key }), limit }, (line) => process.stdout.write(`${line}\n`));
    return 0;
  },
};
