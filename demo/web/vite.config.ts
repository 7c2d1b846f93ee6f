/**
 * Vite config of the browser demo. The app imports the package's source
 * (`src/browser.ts`), so a `node:` import reachable from the browser entry
 * fails this build: that is the point, the build doubles as an entry check.
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Node-only modules; `ws` is on the list because its browser stub only throws at runtime. */
const nodeOnly = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`), 'ws']);

/** Fails the build (instead of Vite's silent browser stub) when anything reaches a Node-only module. */
function rejectNodeModules(): Plugin {
  return {
    name: 'tidelog:reject-node-modules',
    enforce: 'pre',
    resolveId(id, importer) {
      if (id.startsWith('node:') || nodeOnly.has(id)) this.error(`${importer ?? '?'} imports '${id}': nothing reachable from the browser entry may use Node-only modules`);
      return null;
    },
  };
}

export default defineConfig({
  root,
  // Relative asset URLs: the built app works from any path of any static server.
  base: './',
  logLevel: 'warn',
  plugins: [rejectNodeModules()],
  // The room screen is React (app.tsx): the automatic JSX runtime, no Fast Refresh plugin needed for a build.
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
});
