/**
 * Everything a browser test needs, on loopback: a real relay on an ephemeral
 * port whose tap captures every frame it receives, the built demo app on a
 * static server, and headless Chromium (Debian's package, no downloads).
 */
import { type Browser, chromium } from 'playwright-core';
import { type StaticServer, startStaticServer } from '../../src/cli/static-server.js';
import { RelayServer } from '../../src/relay/index.js';
import { CHROMIUM_PATH, DEMO_APP_DIR } from './paths.js';
import { freePort } from '../support/loopback.js';

/** A running relay, app server and browser. */
export interface BrowserHarness {
  readonly browser: Browser;
  /** The app's URL; it joins rooms on {@link relayUrl} by default. */
  readonly appUrl: string;
  readonly relayUrl: string;
  /** A loopback URL where nothing listens: pages pointed at it stay offline. */
  readonly deadRelayUrl: string;
  /** Stops serving the app (pages must then start from their service worker's cache). */
  stopApp(): Promise<void>;
  /** Serves the app again, on the same port. */
  restartApp(): Promise<void>;
  /** Copies of every frame the relay received so far, in arrival order. */
  capturedFrames(): readonly Uint8Array[];
  /** Closes the browser, the app server and the relay. */
  close(): Promise<void>;
}

/**
 * Chromium flags for a closed machine: no sandbox (containers), no GPU, and none of the background traffic
 * (QUIC probes, component updates, sync) that would reach for a network that is not there. Playwright gives
 * every launch a fresh temporary profile directory of its own (it refuses `--user-data-dir` in `args`).
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** Launches Debian's Chromium (or `TIDELOG_CHROMIUM`) headless through playwright-core. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] });
}

/** Starts the relay, the static server (of the demo app, or of `appDir`) and Chromium. */
export async function startHarness(options: { readonly appDir?: string } = {}): Promise<BrowserHarness> {
  const frames: Uint8Array[] = [];
  const relay = await RelayServer.start({ host: '127.0.0.1', port: 0, tap: (_roomId, frame) => frames.push(frame.slice()) });
  const serveApp = (port = 0): Promise<StaticServer> => startStaticServer({ rootDir: options.appDir ?? DEMO_APP_DIR, port, config: { relayUrl: relay.url } });
  let app = await serveApp();
  let appUp = true;
  const { port: appPort, url: appUrl } = app;
  const deadRelayUrl = `ws://127.0.0.1:${await freePort()}`;
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (error) {
    await app.close();
    await relay.close();
    throw error;
  }
  return {
    browser,
    appUrl,
    relayUrl: relay.url,
    deadRelayUrl,
    async stopApp() {
      if (!appUp) return;
      appUp = false;
      await app.close();
    },
    async restartApp() {
      if (appUp) return;
      app = await serveApp(appPort);
      appUp = true;
    },
    capturedFrames: () => frames,
    async close() {
      await browser.close();
      if (appUp) await app.close();
      await relay.close();
    },
  };
}

