/**
 * better-sqlite3 for the storage suite's SQLite anchor, installed when a bench first needs it. It is not a
 * dependency of the package or of the tests: it has no prebuilt binary this machine can fetch, so installing it
 * compiles SQLite from source (2-3 minutes on 2 cores), which every `npm ci` would otherwise pay.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type BetterSqlite3 from 'better-sqlite3';

/** The version range measured (13 needs Node 22 and crashes on Node 20). */
const BETTER_SQLITE3 = 'better-sqlite3@^12.11.1';
const rootDir = dirname(dirname(fileURLToPath(import.meta.url)));

/** The better-sqlite3 `Database` constructor, installing the package first (without saving it) when it is missing. */
export function loadSqlite(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): typeof BetterSqlite3 {
  const require = createRequire(import.meta.url);
  try {
    return require('better-sqlite3') as typeof BetterSqlite3;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
  }
  log(`bench: installing ${BETTER_SQLITE3} for the SQLite figures (npm install --no-save; compiles from source, a few minutes)`);
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', BETTER_SQLITE3], { cwd: rootDir, stdio: ['ignore', 'ignore', 'inherit'] });
  // By the file its package names: the loader (and tsx's package.json cache) remember that the bare name and
  // the folder did not resolve a moment ago.
  const dir = join(rootDir, 'node_modules', 'better-sqlite3');
  const { main } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main: string };
  return require(join(dir, main)) as typeof BetterSqlite3;
}
