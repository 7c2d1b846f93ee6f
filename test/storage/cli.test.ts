/** `tidelog inspect` and `tidelog verify` on real database directories. */
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
    expect(text).toContain('keys            2');
    expect(text).toContain('milk = {"qty":3}');
    expect(text).toContain('title = "Groceries"');

    const history: string[] = [];
    await runInspect(db, { key: 'milk', limit: 50 }, (line) => history.push(line));
    expect(history[0]).toContain('2 ops');
    expect(history[1]).toContain('cli #2 at HLC 1001.0: set {"qty":2}');
    expect(history[2]).toContain('cli #3 at HLC 1002.0: set {"qty":3}');

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
    expect(damaged.stdout).toContain('corrupt');
    const refused = await cli(['inspect', db]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[STORAGE_CORRUPT]');
    const missing = await cli(['inspect', path.join(work, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not a tidelog database');
  });
});
