/** Temporary directories for tests that need real files, removed after each test. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';

/**
 * Returns a maker of fresh empty directories under the OS temp dir; every directory it made
 * is removed after each test of the calling file.
 */
export function useTempDirs(prefix = 'tidelog-test-'): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
