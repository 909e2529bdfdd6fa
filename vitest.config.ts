import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Gateways spawned as child processes run the built dist/ (`npm start`): rebuild if stale.
    globalSetup: ['test/support/build-dist.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files start servers and ONNX sessions; two cores, so keep parallelism modest.
    maxWorkers: 2,
    // expect.poll waits for something that happens after a response (a shadow row, a flush):
    // on a loaded two-core machine that can take more than the default second.
    expect: { poll: { timeout: 10_000 } },
  },
});
