/**
 * The browser suite: real headless Chromium (Debian's package, driven by
 * playwright-core), a real relay and the built demo app. Separate from the main
 * suite because it needs a browser binary and a Vite build; run it with
 * `npm run test:browser`.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.test.ts'],
    globalSetup: ['test/browser/build-app.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One browser at a time: the machine has two cores and Chromium wants both.
    fileParallelism: false,
    pool: 'forks',
  },
});
