/** `tidelog inspect <dir>`: stats, keys, and one key's history, read-only (works beside a running writer). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../core/errors.js';
import type { Op } from '../core/op.js';
import { Replica } from '../core/replica.js';
import { FileStorage } from '../storage/file/file-storage.js';
import { META_FILE } from '../storage/file/recovery.js';
import type { ParsedArgs } from './args.js';
import { type Io, numberFlag, textFlag } from './command.js';
import { hlcText } from './format.js';

const PREVIEW_CHARS_MAX = 80;

function preview(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > PREVIEW_CHARS_MAX ? `${text.slice(0, PREVIEW_CHARS_MAX - 1)}…` : text;
}

function describeOp(op: Op): string {
  const what = op.type === 'set' ? `set ${preview(op.value)}` : 'delete';
  return `${op.replica} #${op.seq} at ${hlcText(op)}: ${what}`;
}

/** Prints what the database in `dir` holds; `key` switches to that key's history. */
export async function runInspect(dir: string, options: { key?: string; limit: number }, write: (line: string) => void): Promise<void> {
  if (!fs.existsSync(dir)) throw new InvalidArgumentError(`${dir} does not exist`);
  if (!fs.existsSync(path.join(dir, META_FILE))) throw new InvalidArgumentError(`${dir} is not a tidelog database (no ${META_FILE}; tidelog verify ${dir} says what it holds)`);
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
    write(`  segments        ${stats.segments} (${stats.segmentBytes} bytes, ${report.recordsRead} records, ${report.opsRead} ops read)`);
    write(`  snapshot        ${stats.snapshotFile === undefined ? '(none)' : `${stats.snapshotFile} (${stats.snapshotBytes} bytes)`}`);
    write(`  version vector  ${JSON.stringify(replica.versionVector())}`);
    write(`  horizon         ${JSON.stringify(replica.horizon())}`);
    write(`  keys            ${replica.size} with a value`);
    const latest = lastWrite(replica);
    if (latest !== undefined) write(`  last write      ${hlcText(latest)} by ${latest.replica}`);
    if (report.damage.length > 0) write(`  torn tail       ${report.damage.map((d) => `${d.file}@${d.offset} (${d.bytes} bytes)`).join(', ')} (cut off at the next writable open)`);
    const keys = replica.keys();
    for (const key of keys.slice(0, options.limit)) write(`  ${key} = ${preview(replica.get(key))}`);
    if (keys.length > options.limit) write(`  … ${keys.length - options.limit} more (use --limit N)`);
  } finally {
    await replica.close();
  }
}

/** The op with the latest HLC time among each replica's newest op still held. */
function lastWrite(replica: Replica): Op | undefined {
  let latest: Op | undefined;
  for (const [id, seq] of Object.entries(replica.versionVector())) {
    const op = replica.opById(id, seq);
    if (op !== undefined && (latest === undefined || op.wall > latest.wall || (op.wall === latest.wall && op.logical > latest.logical))) latest = op;
  }
  return latest;
}

/** Runs `tidelog inspect <dir>` with checked arguments. */
export async function runInspectCommand(args: ParsedArgs, io: Io): Promise<number> {
  const key = textFlag(args, 'key');
  await runInspect(args.positionals[0] as string, { ...(key === undefined ? {} : { key }), limit: numberFlag(args, 'limit', 50) }, io.out);
  return 0;
}
