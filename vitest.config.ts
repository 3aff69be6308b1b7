import { defineConfig } from 'vitest/config';

// The integration suite runs once per transport: a capability that works on one and not the other is a bug.
const integration = ['test/integration/**/*.test.ts'];

export default defineConfig({
  test: {
    // Integration tests spawn real Python workers: forks isolate them, two at a time fits 2 cores.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/docs/**/*.test.ts'] } },
      { extends: true, test: { name: 'pipe', include: [...integration, 'test/commands/**/*.test.ts', 'test/examples/**/*.test.ts'], env: { SNAKEPIT_TEST_TRANSPORT: 'pipe' } } },
      { extends: true, test: { name: 'grpc', include: [...integration, 'test/grpc/**/*.test.ts'], env: { SNAKEPIT_TEST_TRANSPORT: 'grpc' } } },
    ],
  },
});
