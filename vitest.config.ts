import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Network tests bind real sockets; files run in parallel workers but each picks free ports.
    pool: 'forks',
    // The JSON report gives CI its one-line summary (.ci/run).
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  },
});
