import { defineConfig } from 'vitest/config';

// Long simulator sweeps: `npm run soak`, never part of `npm test`.
export default defineConfig({
  test: {
    include: ['soak/**/*.soak.ts'],
    testTimeout: 30 * 60_000,
    pool: 'forks',
  },
});
