import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Timing-sensitive tests (I/O during a flood, slow-handler budgets) must not share the two cores
    // with other test files.
    fileParallelism: false,
  },
});
