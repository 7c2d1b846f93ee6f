/** Paths the browser suite shares. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The demo's Vite config. */
export const DEMO_VITE_CONFIG = fileURLToPath(new URL('../../demo/web/vite.config.ts', import.meta.url));
/** Where Vite writes the built demo app. */
export const DEMO_APP_DIR = fileURLToPath(new URL('../../demo/web/dist', import.meta.url));
/** The tracked reports (screenshots, timings), written only when asked: `UPDATE_REPORTS=1 npm run test:browser`. */
export const TRACKED_REPORTS_DIR = fileURLToPath(new URL('../../reports', import.meta.url));
/**
 * Where this run writes its screenshots and timings: the tracked `reports/` with `UPDATE_REPORTS=1`, else a
 * directory under the system's temporary directory, so a plain run leaves the work tree clean.
 */
export const REPORTS_DIR = process.env.UPDATE_REPORTS === '1' ? TRACKED_REPORTS_DIR : join(tmpdir(), 'tidelog-browser-reports');
/** Debian's Chromium; overridable for other machines. */
export const CHROMIUM_PATH = process.env.TIDELOG_CHROMIUM ?? '/usr/bin/chromium';
/** The repository's root (where package.json is). */
export const REPO_DIR = fileURLToPath(new URL('../..', import.meta.url));
