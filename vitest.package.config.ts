/**
 * The consumer suite: packs the package, installs the tarball into a temporary project and uses it from
 * ESM, require, TypeScript, a Vite build and the `tidelog` command. Separate from the main suite because it
 * rebuilds dist (npm pack) and takes about a minute; `npm run test:package` runs it, and so does `npm test`.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
