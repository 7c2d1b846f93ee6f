/**
 * The demo app in real headless Chromium: two isolated browser profiles share
 * a room through a real relay; one goes offline and edits; both converge;
 * reloads keep every edit (IndexedDB); the relay never sees plaintext; a tab
 * crash in the middle of a batch loses nothing the app reported saved.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppPage } from './app-driver.js';
import { type BrowserHarness, startHarness } from './harness.js';
import { REPORTS_DIR } from './paths.js';

const runId = Math.random().toString(36).slice(2, 8);
const passphrase = `correct horse battery ${runId}`;
/** Every text written in the shared room, to look for in the relay's capture. */
const written: string[] = [];
const timingsMs: Record<string, number> = {};

let harness: BrowserHarness;
let contextA: BrowserContext;
let contextB: BrowserContext;
let alice: AppPage;
let bob: AppPage;

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const startedMs = performance.now();
  try {
    return await work();
  } finally {
    timingsMs[name] = Math.round(performance.now() - startedMs);
  }
}

function text(label: string): string {
  const value = `${label} ${runId}`;
  written.push(value);
  return value;
}

beforeAll(async () => {
  harness = await timed('startHarness', () => startHarness());
  contextA = await harness.browser.newContext();
  contextB = await harness.browser.newContext();
  alice = await AppPage.open(contextA, harness.appUrl);
  bob = await AppPage.open(contextB, harness.appUrl);
  await timed('joinBoth', () => Promise.all([alice.join(passphrase), bob.join(passphrase)]));
});

afterAll(async () => {
  await mkdir(REPORTS_DIR, { recursive: true });
  await writeFile(join(REPORTS_DIR, 'browser-sync.json'), `${JSON.stringify({ chromium: harness?.browser.version(), timingsMs }, null, 2)}\n`);
  await harness?.close();
});

describe('demo app in Chromium', () => {
  it('syncs two isolated profiles, and an offline profile catches up both ways', async () => {
    const fromAlice = text('buy oat milk');
    const fromBob = text('fix the bike');
    await alice.add(fromAlice);
    await bob.add(fromBob);
    await timed('firstSync', () => Promise.all([alice.waitForTexts([fromAlice, fromBob]), bob.waitForTexts([fromAlice, fromBob])]));
    // One edit's trip from one profile's screen to the other's: IndexedDB commit, seal, relay, open, merge, render.
    const roundTrip = text('one more thing');
    await timed('editVisibleOnPeer', async () => {
      await alice.add(roundTrip);
      await bob.waitForTexts([roundTrip]);
    });
    await alice.waitForStatus({ network: 'online', peersSeen: 1, unsentOps: 0 });
    await bob.waitForStatus({ network: 'online', peersSeen: 1, unsentOps: 0 });

    await contextB.setOffline(true);
    await bob.waitForStatus({ network: 'offline' });
    const offlineEdits = [text('water the plants (offline)'), text('call grandma (offline)'), text('book the dentist (offline)')];
    for (const edit of offlineEdits) await bob.add(edit);
    await bob.toggle(fromAlice);
    const whileBobAway = text('pay rent (while bob is offline)');
    await alice.add(whileBobAway);
    // Bob's edits wait in his outbox, and are really not reaching Alice.
    expect((await bob.status()).unsentOps).toBeGreaterThan(0);
    await alice.page.waitForTimeout(1_000);
    expect((await alice.todos()).map((todo) => todo.text)).not.toContain(offlineEdits[0]);

    await contextB.setOffline(false);
    await timed('catchUpAfterOffline', async () => {
      await alice.waitForTexts(offlineEdits);
      await bob.waitForTexts([whileBobAway]);
      await bob.waitForStatus({ network: 'online', unsentOps: 0 });
      await alice.page.waitForFunction((wanted) => [...document.querySelectorAll('#todos li.done .text')].some((element) => element.textContent === wanted), fromAlice);
    });
    const [shownByAlice, shownByBob] = await Promise.all([alice.todos(), bob.todos()]);
    expect(shownByAlice).toEqual(shownByBob);
    expect(shownByAlice.map((todo) => todo.text).sort()).toEqual([fromAlice, fromBob, roundTrip, ...offlineEdits, whileBobAway].sort());
    expect(shownByAlice.find((todo) => todo.text === fromAlice)?.done).toBe(true);

    await mkdir(REPORTS_DIR, { recursive: true });
    await alice.page.screenshot({ path: join(REPORTS_DIR, 'browser-sync.png'), fullPage: true });
    expect(alice.errors.concat(bob.errors)).toEqual([]);
  });

  it('keeps every edit across a reload, from IndexedDB alone', async () => {
    const before = await bob.todos();
    expect(before.length).toBe(7);
    // Point the reloaded page at a relay that is not there, so whatever it shows came from IndexedDB.
    await timed('reloadFromIndexedDb', async () => {
      await bob.page.goto(`${harness.appUrl}?relay=${encodeURIComponent(harness.deadRelayUrl)}`);
      await bob.page.waitForSelector('body[data-ready="true"]');
    });
    expect(await bob.todos()).toEqual(before);
    expect((await bob.status()).network).not.toBe('online');
    // And back on the real relay it is online again, with the same list.
    await bob.page.goto(`${harness.appUrl}?relay=${encodeURIComponent(harness.relayUrl)}`);
    await bob.page.waitForSelector('body[data-ready="true"]');
    await bob.waitForStatus({ network: 'online' });
    expect(await bob.todos()).toEqual(before);
  });

  it("leaves no plaintext in the relay's capture", async () => {
    const frames = harness.capturedFrames();
    const captured = Buffer.concat(frames.map((frame) => Buffer.from(frame)));
    // The capture must really hold this room's traffic, or the check below proves nothing.
    expect(frames.length).toBeGreaterThan(10);
    expect(captured.length).toBeGreaterThan(2_000);
    const secrets = [...written, passphrase, 'todo/', 'createdMs', runId];
    for (const secret of secrets) {
      expect(captured.includes(Buffer.from(secret, 'utf8')), `relay saw '${secret}'`).toBe(false);
      expect(captured.includes(Buffer.from(secret, 'utf16le')), `relay saw '${secret}' (UTF-16)`).toBe(false);
    }
  });

  it('loses nothing the app reported saved when the tab crashes in the middle of a batch', async () => {
    const context = await harness.browser.newContext();
    try {
      const crashRoom = `crash room ${runId}`;
      const victim = await AppPage.open(context, harness.appUrl);
      await victim.join(crashRoom);
      const batchTodos = 100;
      const totalTodos = 20_000;
      // Start a long run of atomic batches and crash the renderer once the first ones are reported saved.
      void victim.page
        .evaluate(
          ([count, perBatch]) => (window as unknown as { tidelogDemo: { addMany(c: number, p: number, l: string): Promise<void> } }).tidelogDemo.addMany(count, perBatch, 'crash'),
          [totalTodos, batchTodos] as const,
        )
        .catch(() => undefined);
      await expect.poll(() => victim.savedKeys.length, { timeout: 30_000, interval: 5 }).toBeGreaterThanOrEqual(batchTodos);
      const cdp = await context.newCDPSession(victim.page);
      const crashed = new Promise<void>((resolve) => victim.page.once('crash', () => resolve()));
      void cdp.send('Page.crash').catch(() => undefined);
      await crashed;
      const savedBeforeCrash = new Set(victim.savedKeys);
      timingsMs.savedBeforeCrash = savedBeforeCrash.size;

      const reopened = await AppPage.open(context, harness.appUrl);
      await reopened.join(crashRoom);
      const keys = await reopened.page.evaluate(() =>
        (window as unknown as { tidelogDemo: { room(): { replica: { keys(o: object): string[] } } } }).tidelogDemo.room().replica.keys({ prefix: 'todo/' }),
      );
      const present = new Set(keys);
      const lost = [...savedBeforeCrash].filter((key) => !present.has(key));
      expect(lost, `${lost.length} of ${savedBeforeCrash.size} saved todos lost`).toEqual([]);
      // Batches are atomic: every batch is there whole or not at all.
      const shown = await reopened.todos();
      const perBatch = new Map<number, number>();
      for (const todo of shown) {
        const index = Number(todo.text.split(' ')[1]);
        const batch = Math.floor(index / batchTodos);
        perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
      }
      for (const [batch, count] of perBatch) expect(count, `batch ${batch}`).toBe(batchTodos);
      timingsMs.presentAfterCrash = present.size;
      // The crash really came in the middle: not every batch had been written.
      expect(present.size).toBeLessThan(totalTodos);
    } finally {
      await context.close();
    }
  });
});
