import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files start servers and ONNX sessions; two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
