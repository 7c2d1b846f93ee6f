/**
 * Vite config of the browser demo. The app imports the package's source
 * (`src/browser.ts`), so a `node:` import reachable from the browser entry
 * fails this build: that is the point, the build doubles as an entry check.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  // Relative asset URLs: the built app works from any path of any static server.
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
});
