/**
 * `tidelog verify` and `FileStorage.open` must say the same thing about a log that a writer's crash
 * left behind. Issue 21 item 7: verify run right after a SIGKILL reported damage (twice in 64 kills)
 * where the next open cut 0 bytes. The cause: a new segment was created under its real name and then
 * filled with its header and preallocated zeros, so a kill in between left an empty or headerless
 * `log-N.tlog` (verify: "bad file header"; open: a 0-byte torn tail, removed without a word).
 * Here a real child process is SIGKILLed at exactly that moment, several times, with 0 to 4,096 bytes
 * of the preallocation written.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Replica } from '../../src/core/replica.js';
import { FileStorage } from '../../src/storage/file/file-storage.js';
import { verifyDirectory } from '../../src/storage/file/verify.js';
import { useTempDirs } from '../support/temp-dirs.js';

const killer = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'prealloc-killer.ts');
const tempDir = useTempDirs('tidelog-verify-kill-');

/** Runs the killer until it SIGKILLs itself; resolves with the keys it acknowledged. */
function runUntilKilled(dir: string, armAfterCommits: number, writtenBytes: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', killer, dir, String(armAfterCommits), String(writtenBytes)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited with ${code ?? signal} instead of being killed: ${err}`));
      else resolve(out.split('\n').slice(0, -1)); // a partial last line was never a complete report
    });
  });
}

describe('verify and open agree after a SIGKILL mid-preallocation', () => {
  it('reports nothing either way, and keeps every acknowledged write, across 6 kills', async () => {
    const dir = tempDir();
    const acked: string[] = [];
    // [commits before the kill, bytes of the new segment written when it lands]
    const kills: [number, number][] = [[0, 0], [5, 0], [9, 7], [14, 16], [20, 100], [26, 4096]];
    for (const [armAfter, written] of kills) {
      acked.push(...(await runUntilKilled(dir, armAfter, written)));
      const verified = verifyDirectory(dir);
      const lines: string[] = [];
      const storage = await FileStorage.open(dir, { log: (line) => lines.push(line) });
      const opened = storage.recovery;
      await storage.close();
      const where = `kill after ${armAfter} commits with ${written} bytes written`;
      // Agreement first (the property), then what both must say here: a crash mid-creation is no damage.
      expect(verified.damage, where).toEqual(opened.damage);
      expect(verified.ok, `${where}: ${JSON.stringify(verified.damage)}`).toBe(true);
      expect({ dropped: opened.bytesDropped, notices: lines }, where).toEqual({ dropped: 0, notices: [] });
    }
    const replica = await Replica.open({ storage: await FileStorage.open(dir, { durability: 'interval', segmentBytesMax: 4096 }) });
    expect(acked.length).toBeGreaterThan(60);
    for (const key of acked) expect(replica.get(key), key).toBeDefined();
    await replica.close();
  });
});
