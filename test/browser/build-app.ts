/**
 * Global setup of the browser suite: builds the demo app once with Vite, so
 * every test serves the bundle of the current source. A `node:` import that
 * leaks into the browser entry fails here, before any browser starts.
 */
import { build } from 'vite';
import { DEMO_APP_DIR, DEMO_VITE_CONFIG } from './paths.js';

/** Vitest global setup hook. */
export default async function setup(): Promise<void> {
  const startedMs = Date.now();
  await build({ configFile: DEMO_VITE_CONFIG, logLevel: 'warn' });
  process.stdout.write(`[browser suite] built the demo app into ${DEMO_APP_DIR} in ${Date.now() - startedMs} ms\n`);
}
