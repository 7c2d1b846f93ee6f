/** Paths the browser suite shares. */
import { fileURLToPath } from 'node:url';

/** The demo's Vite config. */
export const DEMO_VITE_CONFIG = fileURLToPath(new URL('../../demo/web/vite.config.ts', import.meta.url));
/** Where Vite writes the built demo app. */
export const DEMO_APP_DIR = fileURLToPath(new URL('../../demo/web/dist', import.meta.url));
/** Generated reports (screenshots, timings). */
export const REPORTS_DIR = fileURLToPath(new URL('../../reports', import.meta.url));
/** Debian's Chromium; overridable for other machines. */
export const CHROMIUM_PATH = process.env.TIDELOG_CHROMIUM ?? '/usr/bin/chromium';
