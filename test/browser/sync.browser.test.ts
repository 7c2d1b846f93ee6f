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
const crashes: { crashAfterBatches: number; reportedSaved: number; presentAfterReopen: number }[] = [];

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
  await writeFile(join(REPORTS_DIR, 'browser-sync.json'), `${JSON.stringify({ chromium: harness?.browser.version(), timingsMs, crashes }, null, 2)}\n`);
  process.stdout.write(`[browser suite] timings (ms): ${JSON.stringify(timingsMs)}; crashes: ${JSON.stringify(crashes)}; report in ${REPORTS_DIR}\n`);
  await harness?.close();
});

/** The test handle the demo app puts on `window`. */
interface DemoWindow {
  tidelogDemo: {
    addMany(count: number, perBatch: number, label: string): Promise<void>;
    room(): { replica: { replicaId: string; keys(options: { prefix: string }): string[] } } | undefined;
    todos(): { text: string }[];
  };
}

const BATCH_TODOS = 100;
const TOTAL_TODOS = 20_000;

/**
 * Starts a long run of atomic batches (a few in flight at a time), crashes the renderer
 * through CDP once `crashAfterBatches` batches were reported saved, reopens the app in the
 * same profile and checks: every reported todo is there, and every batch is whole or absent.
 */
async function crashMidBatch(context: BrowserContext, room: string, crashAfterBatches: number): Promise<void> {
  const victim = await AppPage.open(context, harness.appUrl);
  await victim.join(room);
  void victim.page
    .evaluate(([count, perBatch]) => (window as unknown as DemoWindow).tidelogDemo.addMany(count, perBatch, 'crash'), [TOTAL_TODOS, BATCH_TODOS] as const)
    .catch(() => undefined);
  await expect.poll(() => victim.savedKeys.length, { timeout: 60_000, interval: 2 }).toBeGreaterThanOrEqual(crashAfterBatches * BATCH_TODOS);
  const cdp = await context.newCDPSession(victim.page);
  const crashed = new Promise<void>((resolve) => victim.page.once('crash', () => resolve()));
  void cdp.send('Page.crash').catch(() => undefined);
  await crashed;
  const savedBeforeCrash = new Set(victim.savedKeys);

  const reopened = await AppPage.open(context, harness.appUrl);
  await reopened.join(room);
  const present = new Set(await reopened.page.evaluate(() => (window as unknown as DemoWindow).tidelogDemo.room()?.replica.keys({ prefix: 'todo/' }) ?? []));
  const lost = [...savedBeforeCrash].filter((key) => !present.has(key));
  expect(lost, `${lost.length} of ${savedBeforeCrash.size} reported-saved todos lost`).toEqual([]);
  // Batches are atomic: each one is there whole or not at all.
  const perBatch = new Map<number, number>();
  // From the database, not the screen: the list shows its first rows only.
  const held = await reopened.page.evaluate(() => (window as unknown as DemoWindow).tidelogDemo.todos());
  for (const todo of held) {
    const batch = Math.floor(Number(todo.text.split(' ')[1]) / BATCH_TODOS);
    perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
  }
  for (const [batch, count] of perBatch) expect(count, `batch ${batch}`).toBe(BATCH_TODOS);
  // The crash really came in the middle of the run.
  expect(present.size).toBeLessThan(TOTAL_TODOS);
  crashes.push({ crashAfterBatches, reportedSaved: savedBeforeCrash.size, presentAfterReopen: present.size });
}

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

  it('opens a second tab on the same room database as a follower that reads and writes at once', async () => {
    // Same profile as Alice, so the app rejoins her remembered room on boot: it follows her tab, no lock wait.
    const second = await timed('secondTabOpen', () => AppPage.open(contextA, harness.appUrl));
    try {
      await second.page.waitForSelector('body[data-ready="true"]');
      expect(await second.page.textContent('#status-role')).toBe('follower');
      expect(await alice.page.textContent('#status-role')).toBe('leader');
      expect(await second.todos()).toEqual(await alice.todos());
      const fromSecondTab = text('written in a second tab');
      await timed('followerWriteSaved', () => second.add(fromSecondTab));
      await Promise.all([alice.waitForTexts([fromSecondTab]), bob.waitForTexts([fromSecondTab])]);
      expect(second.errors).toEqual([]);
    } finally {
      await second.page.close();
    }
    const afterSecondTab = text('written after the second tab closed');
    await alice.add(afterSecondTab);
    await bob.waitForTexts([afterSecondTab]);
  });

  it('starts with the network off (service worker) and syncs what was written meanwhile', async () => {
    await bob.page.waitForSelector('body[data-offline-ready="true"]');
    const before = await bob.todos();
    await contextB.setOffline(true);
    // No app server at all: the page can only come from the service worker's cache.
    await harness.stopApp();
    try {
      await timed('offlineStart', async () => {
        await bob.page.reload();
        await bob.page.waitForSelector('body[data-ready="true"]');
      });
      expect(await bob.todos()).toEqual(before);
      expect((await bob.status()).network).toBe('offline');
      const writtenOffline = text('written after an offline start');
      await bob.add(writtenOffline);
      await harness.restartApp();
      await contextB.setOffline(false);
      await timed('catchUpAfterOfflineStart', () => alice.waitForTexts([writtenOffline]));
      await bob.waitForStatus({ network: 'online' });
      expect(await alice.todos()).toEqual(await bob.todos());
    } finally {
      await harness.restartApp().catch(() => undefined);
      await contextB.setOffline(false);
    }
  });

  // Audits the traffic of the tests above (run in order, in one file): alone it has nothing to audit, and fails.
  it("leaves no plaintext in the relay's capture", async () => {
    const frames = harness.capturedFrames();
    const captured = Buffer.concat(frames.map((frame) => Buffer.from(frame)));
    // The capture must really hold this room's traffic, or the check below proves nothing.
    expect(frames.length).toBeGreaterThan(10);
    expect(captured.length).toBeGreaterThan(2_000);
    const replicaIds = await Promise.all([alice, bob].map((app) => app.page.evaluate(() => (window as unknown as DemoWindow).tidelogDemo.room()?.replica.replicaId ?? '')));
    expect(replicaIds.every((id) => id.length > 0)).toBe(true);
    const secrets = [...written, ...replicaIds, passphrase, 'todo/', 'createdMs', runId];
    for (const secret of secrets) {
      expect(captured.includes(Buffer.from(secret, 'utf8')), `relay saw '${secret}'`).toBe(false);
      expect(captured.includes(Buffer.from(secret, 'utf16le')), `relay saw '${secret}' (UTF-16)`).toBe(false);
    }
  });

  // Crash points: after the first reported batch, and deeper into the run.
  for (const crashAfterBatches of [1, 8, 40]) {
    it(`loses nothing the app reported saved when the tab crashes mid-run (after ${crashAfterBatches} saved batches)`, async () => {
      const context = await harness.browser.newContext();
      try {
        await crashMidBatch(context, `crash room ${crashAfterBatches} ${runId}`, crashAfterBatches);
      } finally {
        await context.close();
      }
    });
  }
});
