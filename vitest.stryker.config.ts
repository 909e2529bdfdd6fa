import { defineConfig } from 'vitest/config';

/**
 * The unit tests Stryker runs against each mutant: only the pure modules' tests under src/
 * (no server, no database, no dist/ build), so a mutation run stays light on a shared machine.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    maxWorkers: 1,
    // Instrumented code is several times slower; the seeded coverage simulations need the room.
    testTimeout: 300_000,
  },
});
