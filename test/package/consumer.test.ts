/**
 * The package as a consumer gets it: `npm pack`, then a temporary project that installs the tarball (from
 * npm's cache when it can, `--offline`; else from the registry), and uses it as a user would: every subpath
 * from ESM and through `require`, TypeScript (strict, `skipLibCheck: false`, `nodenext` and `bundler`),
 * a Vite build of the browser entry, and the `tidelog` command with good and bad flags. ioredis is not
 * installed there: `--redis` must say what to install. About a minute on a loaded 2-core machine.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const repo = join(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'tidelog-consumer-'));
const app = join(work, 'app');
const bin = join(app, 'node_modules/.bin/tidelog');

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(file: string, args: readonly string[], cwd = app, timeoutMs = 60_000): Promise<Ran> {
  try {
    const { stdout, stderr } = await exec(file, args, { cwd, timeout: timeoutMs, env: { ...process.env, npm_config_update_notifier: 'false' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; killed?: boolean };
    if (e.killed === true) throw new Error(`${file} ${args.join(' ')} did not finish within ${timeoutMs} ms (hung?)`);
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const tidelog = (...args: string[]) => run(bin, args);

beforeAll(async () => {
  const packed = await run('npm', ['pack', '--pack-destination', work, '--json'], repo, 120_000);
  expect(packed.code, packed.stderr).toBe(0);
  const tarball = (JSON.parse(packed.stdout) as { filename: string }[])[0]?.filename as string;
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const args = ['install', '--no-audit', '--no-fund', '--no-package-lock', join(work, tarball)];
  let installed = await run('npm', [...args, '--offline'], app, 120_000);
  // A fresh machine has the repository's tarballs cached but not the registry's package lists.
  if (installed.code !== 0) installed = await run('npm', [...args, '--prefer-offline'], app, 120_000);
  expect(installed.code, installed.stderr).toBe(0);
  // The consumer's own dev tools: Node's types for TypeScript (from this repository, as a consumer would install them).
  mkdirSync(join(app, 'node_modules/@types'), { recursive: true });
  symlinkSync(join(repo, 'node_modules/@types/node'), join(app, 'node_modules/@types/node'));
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed package', () => {
  it('ships dist, docs, README, LICENSE and CHANGELOG: no source maps, no sources, and no install script', () => {
    const root = join(app, 'node_modules/tidelog');
    const names = readdirSync(root).sort();
    expect(names).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'dist', 'docs', 'package.json']);
    const files = readdirSync(join(root, 'dist'), { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string>; dependencies: Record<string, string> };
    expect(manifest.scripts?.prepare).toBeUndefined();
    expect(manifest.scripts?.install).toBeUndefined();
    expect(Object.keys(manifest.dependencies)).not.toContain('ioredis');
    expect(readdirSync(join(app, 'node_modules'))).not.toContain('ioredis');
  });

  it('imports every subpath from ESM and works; require() works too on this Node', async () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      `import { Replica, TidelogError } from 'tidelog';
import { FileStorage, sim, RelayServer } from 'tidelog/node';
import { IndexedDbStorage } from 'tidelog/browser';
import { FAULT_NAMES } from 'tidelog/sim';
const r = await Replica.open({ replicaId: 'a' });
await r.set('k', { n: 1 });
console.log(JSON.stringify(r.get('k')), typeof FileStorage, typeof sim.runSimulation, typeof RelayServer, typeof IndexedDbStorage, TidelogError.name, FAULT_NAMES.includes('crash'));
await r.close();
`,
    );
    const esm = await run(process.execPath, ['esm.mjs']);
    expect(esm.stderr).toBe('');
    expect(esm.stdout.trim()).toBe('{"n":1} function function function function TidelogError true');
    writeFileSync(join(app, 'cjs.cjs'), `const t = require('tidelog'); const n = require('tidelog/node'); console.log(typeof t.Replica, typeof n.FileStorage);`);
    const cjs = await run(process.execPath, ['cjs.cjs']);
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    // require(esm) is on by default from Node 20.19 and 22.12; before that, require fails with ERR_REQUIRE_ESM (README).
    if ((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23) expect(cjs.stdout.trim()).toBe('function function');
    else expect(cjs.stderr).toContain('ERR_REQUIRE_ESM');
  });

  it('without ioredis, the Redis fan-out names what to install', async () => {
    writeFileSync(
      join(app, 'redis.mjs'),
      `import { openRedisFanout } from 'tidelog/node';\nopenRedisFanout({ url: 'redis://127.0.0.1:1' }).catch((e) => console.log(e.code, e.message));`,
    );
    const ran = await run(process.execPath, ['redis.mjs']);
    expect(ran.stdout).toContain('PEER_DEPENDENCY_MISSING');
    expect(ran.stdout).toContain('npm install ioredis@^6');
    const cli = await tidelog('relay', '--port', '0', '--redis', 'redis://127.0.0.1:1');
    expect(cli.code).toBe(1);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toContain('[PEER_DEPENDENCY_MISSING]');
  });

  for (const [module, resolution] of [
    ['nodenext', 'nodenext'],
    ['esnext', 'bundler'],
  ] as const) {
    it(`type-checks from TypeScript: strict, skipLibCheck false, moduleResolution ${resolution}`, async () => {
      const dir = join(app, `ts-${resolution}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'main.mts'),
        `import { Replica, type JsonValue, type StandardSchemaV1 } from 'tidelog';
import { FileStorage, openRedisFanout, RedisRoomBus, type RedisClient } from 'tidelog/node';
import { IndexedDbStorage } from 'tidelog/browser';
import { FAULT_NAMES, type SimOptions } from 'tidelog/sim';
type Todo = { text: string; done: boolean };
const todos = await Replica.open<Todo>();
await todos.set('t', { text: 'milk', done: false });
// @ts-expect-error not a Todo
await todos.set('t', 1);
const text: string | undefined = todos.get('t')?.text;
const schema: StandardSchemaV1<unknown, Todo> = { '~standard': { version: 1, vendor: 'x', validate: (value) => ({ value: value as Todo }) } };
const checked = await Replica.open({ schema });
const v: JsonValue = 1;
export { text, checked, v, FileStorage, openRedisFanout, RedisRoomBus, IndexedDbStorage, FAULT_NAMES };
export type { RedisClient, SimOptions };
`,
      );
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            skipLibCheck: false,
            noEmit: true,
            target: 'es2022',
            module,
            moduleResolution: resolution,
            lib: ['es2022', 'dom'],
            types: ['node'],
            exactOptionalPropertyTypes: true,
          },
          files: ['main.mts'],
        }),
      );
      const tsc = await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', dir]);
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.code).toBe(0);
    });
  }

  it('bundles the browser entry with Vite, with nothing from node: in it', async () => {
    const dir = join(app, 'web');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
    writeFileSync(
      join(dir, 'main.js'),
      `import { Replica, IndexedDbStorage, openSyncedReplica } from 'tidelog/browser';\nconsole.log(Replica, IndexedDbStorage, openSyncedReplica);`,
    );
    const script = `import { build } from ${JSON.stringify(join(repo, 'node_modules/vite/dist/node/index.js'))};
await build({ root: ${JSON.stringify(dir)}, logLevel: 'silent', build: { outDir: 'out', minify: false } });`;
    writeFileSync(join(app, 'bundle.mjs'), script);
    const built = await run(process.execPath, ['bundle.mjs'], app, 120_000);
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    const assets = readdirSync(join(dir, 'out/assets')).filter((f) => f.endsWith('.js'));
    expect(assets).toHaveLength(1);
    const bundle = readFileSync(join(dir, 'out/assets', assets[0] as string), 'utf8');
    expect(bundle).not.toMatch(/from\s*["']node:|require\(["']node:/);
    expect(bundle).toContain('IndexedDB');
  }, 180_000);
});

describe('the tidelog command from the installed package', () => {
  it('--help, sim --faults list, a passing seed, replay and demo exit 0', async () => {
    const help = await tidelog('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tidelog <command> [options]');
    for (const line of help.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect((await tidelog('sim', '--faults', 'list')).stdout).toContain('bitflip');
    const seed = await tidelog('sim', '--seed', '2', '--steps', '60', '--replicas', '2');
    expect(seed.code).toBe(0);
    expect(seed.stdout.trim().split('\n').at(-1)).toBe('PASSED seed 2: every check held');
    expect((await tidelog('replay', '2', '--steps', '30', '--replicas', '2')).code).toBe(0);
    const demo = await tidelog('demo');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain('converged: yes');
    for (const name of ['demo', 'relay', 'inspect', 'verify', 'repair', 'sim', 'replay']) expect((await tidelog(name, '--help')).code, name).toBe(0);
  });

  it('bad flags: one line on stderr, exit 2; demo --web exits instead of hanging', async () => {
    for (const args of [
      ['relay', '--bogus'],
      ['relay', '--port', '99999'],
      ['demo', '--web', '--port', 'abc'],
      ['sim', '--runs', '0'],
      ['sim', '--key-distribution', 'foo'],
      ['sim', '--html'],
      ['replay', 'abc'],
      ['inspect'],
      ['verify', join(work, 'nope')],
      ['nope'],
    ]) {
      const ran = await tidelog(...args);
      expect(ran.code, args.join(' ')).toBe(2);
      expect(ran.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    // The demo app is not in the package: a clear line, at once, whatever the ports.
    const web = await tidelog('demo', '--web', '--port', '0', '--relay-port', '0');
    expect(web.code).not.toBe(0);
    expect(web.stderr).toContain('checkout of the tidelog repository');
  });

  it('verify, repair and inspect a database; relay starts, listens and stops on SIGTERM', async () => {
    const db = join(work, 'db');
    writeFileSync(
      join(app, 'db.mjs'),
      `import { Replica } from 'tidelog';\nimport { FileStorage } from 'tidelog/node';\nconst r = await Replica.open({ storage: await FileStorage.open(${JSON.stringify(db)}), replicaId: 'c' });\nawait r.set('k', 1);\nawait r.close();`,
    );
    expect((await run(process.execPath, ['db.mjs'])).code).toBe(0);
    expect((await tidelog('verify', db)).stdout).toContain('ok: every record and snapshot verified');
    expect((await tidelog('repair', db)).stdout).toContain('nothing to repair');
    expect((await tidelog('inspect', db, '--key', 'k')).stdout).toMatch(/c #1 at \d{4}-\d\d-\d\dT[\d:.]+Z: set 1/);
    const empty = join(work, 'empty');
    mkdirSync(empty);
    expect((await tidelog('verify', empty)).stderr).toContain('is empty: not a tidelog database');

    const relay = spawn(bin, ['relay', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      relay.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out);
      });
      relay.on('exit', (code) => reject(new Error(`relay exited ${code}`)));
    });
    expect(line).toMatch(/^tidelog relay listening on ws:\/\/127\.0\.0\.1:\d+\/rooms\/<roomId>/);
    const exited = new Promise<number | null>((resolve) => relay.on('exit', (code) => resolve(code)));
    relay.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
