// A production config: `npx snakepit run job.ts --config examples/production.config.ts` (or `snakepit.config.ts`).
// Sizes come from the machine; every option not set here keeps its default (see guides/configuration.md).
import { availableParallelism } from 'node:os';
import { defineConfig } from 'snakepit';

const cores = availableParallelism();

export default defineConfig({
  logLevel: 'warn', // 'error' for quiet services; Python workers follow it
  pools: [
    {
      name: 'default',
      workerProfile: 'process',
      poolSize: cores * 2, // mixed work: 2-4 x cores; CPU-bound: 1-2 x; I/O-bound: 4-8 x
      adapter: 'snakepit_bridge.adapters.showcase.ShowcaseAdapter', // your 'myapp.adapter.MainAdapter'
      startupBatchSize: 8,
      startupBatchDelayMs: 750,
      workerTtl: { value: 1, unit: 'hours' },
      workerMaxRequests: 10_000,
      memoryThresholdMb: 2_048,
      heartbeat: { enabled: true, pingIntervalMs: 2_000, timeoutMs: 10_000, maxMissedHeartbeats: 3 },
    },
    {
      name: 'hpc',
      workerProfile: 'thread',
      poolSize: Math.max(1, Math.floor(cores / 4)),
      threadsPerWorker: 16,
      adapter: 'snakepit_bridge.adapters.threaded_showcase.ThreadedShowcaseAdapter', // your 'myapp.adapter.MLAdapter'
      heartbeat: { pingIntervalMs: 5_000 },
    },
  ],
  poolQueueTimeoutMs: 5_000,
  poolMaxQueueSize: 1_000,
  poolStartupTimeoutMs: 30_000, // imports of large ML libraries take time
  crashBarrier: { enabled: true, retry: 'idempotent', maxRetries: 1, taintMs: 5_000 },
  rogueCleanup: { enabled: true },
});
