/**
 * docs/building-an-app.md, followed as a consumer would: the package is built and packed (`npm pack`), a
 * temporary project runs the page's install commands against the tarball, gets the page's files exactly as
 * printed, typechecks them (`tsc`), builds them (`vite build`), and Chromium runs the result: two tabs of one
 * profile share the database (one leads, one follows), another profile syncs through the relay, and the
 * `tidelog/react` hooks re-render on every change.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, startHarness } from './harness.js';
import { REPO_DIR } from './paths.js';

const run = promisify(execFile);
const DOC = join(REPO_DIR, 'docs', 'building-an-app.md');

let workDir: string;
let harness: BrowserHarness;
const timingsMs: Record<string, number> = {};

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const startedMs = performance.now();
  try {
    return await work();
  } finally {
    timingsMs[name] = Math.round(performance.now() - startedMs);
  }
}

/** The page's code blocks that name a file (`// file: path` or `<!-- file: path -->` on their first line). */
function filesOf(markdown: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const match of markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    const body = match[1] as string;
    const marker = /^(?:\/\/|<!--) file: (\S+?)(?: -->)?\n/.exec(body);
    if (marker !== null) files.set(marker[1] as string, body.slice(marker[0].length));
  }
  return files;
}

/**
 * The page's commands (the first `sh` block), with `tidelog` installed from the tarball. Its `npm install` lines
 * run as one install (one resolution instead of two: the suite's time is bounded), from the npm cache when it can.
 */
function installCommands(markdown: string, tarball: string): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(markdown)?.[1] ?? '';
  const commands = block
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('npm '))
    .flatMap((line) => line.split('&&').map((part) => part.trim()));
  const packages = commands.filter((command) => command.startsWith('npm install')).flatMap((command) => command.split(/\s+/).slice(2).filter((word) => !word.startsWith('-')));
  const install = `npm install ${packages.map((name) => (name === 'tidelog' ? tarball : name)).join(' ')} --prefer-offline --no-audit --no-fund`;
  return [...commands.filter((command) => !command.startsWith('npm install')), install];
}

async function sh(command: string, cwd: string): Promise<void> {
  try {
    await run('sh', ['-c', command], { cwd, timeout: 120_000, maxBuffer: 16 << 20 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`'${command}' failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** Newest modification time under `dir` (ms). */
async function newestMs(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? await newestMs(path) : (await stat(path)).mtimeMs);
  }
  return newest;
}

/** True when dist/ was built after the last change under src/ (`npm ci` builds it; so does this test when not). */
async function distIsFresh(): Promise<boolean> {
  try {
    await stat(join(REPO_DIR, 'dist', 'index.js'));
    return (await newestMs(join(REPO_DIR, 'dist'))) >= (await newestMs(join(REPO_DIR, 'src')));
  } catch {
    return false;
  }
}

beforeAll(async () => {
  const markdown = await readFile(DOC, 'utf8');
  workDir = await mkdtemp(join(tmpdir(), 'tidelog-consumer-'));
  // The package as published: built from this checkout, packed without running its lifecycle scripts again.
  await timed('buildAndPack', async () => {
    if (!(await distIsFresh())) await sh('npx tsc -p tsconfig.json', REPO_DIR);
    await sh(`npm pack --ignore-scripts --silent --pack-destination ${JSON.stringify(workDir)}`, REPO_DIR);
  });
  const tarball = join(workDir, (await readdir(workDir)).find((name) => name.endsWith('.tgz')) as string);
  const appDir = join(workDir, 'todo-app');
  await mkdir(appDir);
  await timed('install', async () => {
    for (const command of installCommands(markdown, tarball)) await sh(command, appDir);
  });
  const files = filesOf(markdown);
  expect([...files.keys()].sort()).toEqual(['index.html', 'src/App.tsx', 'src/main.tsx', 'tsconfig.json', 'vite.config.ts']);
  for (const [path, text] of files) {
    await mkdir(dirname(join(appDir, path)), { recursive: true });
    await writeFile(join(appDir, path), text);
  }
  await timed('typecheck', () => sh('npx tsc -p tsconfig.json', appDir));
  await timed('viteBuild', () => sh('npx vite build --logLevel warn', appDir));
  harness = await timed('startHarness', () => startHarness({ appDir: join(appDir, 'dist') }));
}, 240_000);

afterAll(async () => {
  process.stdout.write(`[browser suite] consumer app timings (ms): ${JSON.stringify(timingsMs)}\n`);
  await harness?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

async function openApp(context: BrowserContext, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(url);
  await page.waitForSelector('#sync');
  return { page, errors };
}

const items = (page: Page): Promise<string[]> => page.$$eval('li label', (labels) => labels.map((label) => label.textContent ?? ''));

async function add(page: Page, text: string): Promise<void> {
  await page.fill('#add input', text);
  await page.press('#add input', 'Enter');
}

describe('the app of docs/building-an-app.md, built from the packed tarball', () => {
  it('shares one database across tabs, syncs another profile, and re-renders on every change', async () => {
    const device = await harness.browser.newContext();
    const other = await harness.browser.newContext();
    try {
      const first = await openApp(device, `${harness.appUrl}?relay=${encodeURIComponent(harness.relayUrl)}`);
      // The app put the new room's invite in the address: that link is the room.
      const link = first.page.url();
      expect(link).toContain('#tidelog1');
      expect(await first.page.textContent('#role')).toBe('leader');
      await add(first.page, 'buy oat milk');
      await first.page.waitForFunction(() => [...document.querySelectorAll('li label')].some((label) => label.textContent === 'buy oat milk'));

      // A second tab with the same link follows the first, sees its todo, and writes itself.
      const second = await openApp(device, link);
      expect(await second.page.textContent('#role')).toBe('follower');
      await second.page.waitForFunction(() => document.querySelectorAll('li').length === 1);
      await add(second.page, 'fix the bike');
      await first.page.waitForFunction(() => document.querySelectorAll('li').length === 2);

      // useValue: a rename in one tab re-renders the heading in the other.
      await second.page.fill('input[name=title]', 'Our list');
      await second.page.press('input[name=title]', 'Enter');
      await first.page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Our list');

      // Another profile (another device) joins through the relay, end to end encrypted, and writes back.
      const remote = await openApp(other, link);
      expect(await remote.page.textContent('#role')).toBe('leader');
      await remote.page.waitForFunction(() => document.querySelectorAll('li').length === 2);
      await remote.page.click('li input[type=checkbox]');
      await add(remote.page, 'call grandma');
      for (const { page } of [first, second]) await page.waitForFunction(() => document.querySelectorAll('li').length === 3 && document.querySelectorAll('li input:checked').length === 1);
      expect((await items(first.page)).sort()).toEqual((await items(remote.page)).sort());
      expect(await first.page.textContent('h1')).toBe('Our list');
      // useSyncStatus: once the other device has confirmed holding everything, nothing is waiting.
      await first.page.waitForFunction(() => document.querySelector('#sync')?.textContent === 'all changes saved', undefined, { timeout: 20_000 });
      expect([...first.errors, ...second.errors, ...remote.errors]).toEqual([]);
    } finally {
      await device.close();
      await other.close();
    }
  });
});
