/** `tidelog inspect`, `tidelog verify` and `tidelog repair` on real database directories. */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runInspect } from '../../src/cli/inspect.js';
import { runVerify } from '../../src/cli/verify.js';
import { ManualClock } from '../../src/core/clock.js';
import { Replica } from '../../src/core/replica.js';
import { FileStorage } from '../../src/storage/file/file-storage.js';
import { segmentName } from '../../src/storage/file/format.js';
import { makeTempDir, removeDir } from './helpers.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('tidelog inspect / verify', () => {
  const work = makeTempDir('tidelog-cli-');
  const db = path.join(work, 'db');
  afterAll(() => removeDir(work));

  it('inspect prints stats, keys and a key history; verify passes a clean database', async () => {
    const clock = new ManualClock(1_000);
    const replica = await Replica.open({ storage: await FileStorage.open(db), clock, replicaId: 'cli' });
    await replica.set('title', 'Groceries');
    clock.advance(1);
    await replica.set('milk', { qty: 2 });
    clock.advance(1);
    await replica.set('milk', { qty: 3 });
    await replica.delete('eggs');
    await replica.close();

    const lines: string[] = [];
    await runInspect(db, { limit: 50 }, (line) => lines.push(line));
    const text = lines.join('\n');
    expect(text).toContain('replica id      cli');
    expect(text).toContain('4 records, 4 ops');
    expect(text).toContain('keys            2 with a value');
    expect(text).toContain('last write      1970-01-01T00:00:01.002Z +1 by cli');
    expect(text).toContain('milk = {"qty":3}');
    expect(text).toContain('title = "Groceries"');

    const history: string[] = [];
    await runInspect(db, { key: 'milk', limit: 50 }, (line) => history.push(line));
    expect(history[0]).toContain('2 ops');
    expect(history[1]).toContain('cli #2 at 1970-01-01T00:00:01.001Z: set {"qty":2}');
    expect(history[2]).toContain('cli #3 at 1970-01-01T00:00:01.002Z: set {"qty":3}');

    const verifyLines: string[] = [];
    expect(runVerify(db, (line) => verifyLines.push(line))).toBe(0);
    expect(verifyLines.at(-1)).toContain('ok');
  });

  it('the real CLI exits 0 on a clean database and 1 on damage, naming file and offset', async () => {
    const clean = await cli(['verify', db]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('ok: every record and snapshot verified');
    const inspect = await cli(['inspect', db, '--key', 'title']);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('set "Groceries"');

    const file = path.join(db, segmentName(1));
    const bytes = fs.readFileSync(file);
    bytes[30] = (bytes[30] as number) ^ 1; // inside the first record, with intact records after it
    fs.writeFileSync(file, bytes);
    const damaged = await cli(['verify', db]);
    expect(damaged.code).toBe(1);
    expect(damaged.stdout).toContain(`DAMAGE ${segmentName(1)} at byte 16`);
    expect(damaged.stdout).toContain(`tidelog repair ${db}`);
    const refused = await cli(['inspect', db]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[STORAGE_CORRUPT]');
    expect(refused.stderr).toContain('tidelog repair <dir>');
    const missing = await cli(['inspect', path.join(work, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`tidelog inspect: ${path.join(work, 'nope')} does not exist (see: tidelog inspect --help)\n`);

    // repair keeps the records before the damage, moves the rest aside, and leaves a database that verifies.
    const repaired = await cli(['repair', db]);
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toMatch(/^repaired .*: kept 0 intact records \(0 ops\)\n {2}moved \d+ bytes aside to .*damaged: /);
    expect(repaired.stdout.trimEnd().split('\n').at(-1)).toBe('ok: every record and snapshot verified');
    expect((await cli(['verify', db])).code).toBe(0);
    expect((await cli(['repair', db])).stdout).toMatch(/^nothing to repair in /);
  });

  it('verify gives one clear answer for an empty directory, a stray directory and a garbage meta.json', async () => {
    const empty = path.join(work, 'empty');
    fs.mkdirSync(empty);
    const none = await cli(['verify', empty]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe(`tidelog verify: ${empty} is empty: not a tidelog database (nothing to verify) (see: tidelog verify --help)\n`);
    fs.writeFileSync(path.join(empty, 'notes.txt'), 'hello');
    expect((await cli(['verify', empty])).stderr).toContain('is not a tidelog database (no meta.json, no log segments, no snapshot)');

    const garbage = path.join(work, 'garbage');
    const replica = await Replica.open({ storage: await FileStorage.open(garbage), replicaId: 'g' });
    await replica.set('k', 1);
    await replica.close();
    fs.writeFileSync(path.join(garbage, 'meta.json'), '{not json');
    const verdict = await cli(['verify', garbage]);
    expect(verdict.code).toBe(1);
    const damage = verdict.stdout.split('\n').filter((line) => line.includes('DAMAGE'));
    expect(damage).toHaveLength(1);
    expect(damage[0]).toContain('DAMAGE meta.json at byte 0');
    expect(damage[0]).toContain('restore meta.json from a backup');
    expect(verdict.stdout).not.toContain('missing');
    const repair = await cli(['repair', garbage]);
    expect(repair.code).toBe(2);
    expect(repair.stderr).toContain('meta.json is damaged; repair does not guess the replica id');
  });
});
