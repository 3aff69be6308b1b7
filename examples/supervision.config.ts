// The supervision guide's config: `npx snakepit run examples/supervision.ts --config examples/supervision.config.ts`.
import { defineConfig } from 'snakepit';

export default defineConfig({
  // #region heartbeat
  // Every pool: ping every 200 ms, a ping unanswered for 500 ms is a miss, 2 misses in a row kill the worker.
  heartbeat: { pingIntervalMs: 200, timeoutMs: 500, maxMissedHeartbeats: 2 },
  // #endregion heartbeat
  // #region crash-barrier
  crashBarrier: {
    enabled: true, maxRestarts: 5, windowSeconds: 60,
    retry: 'idempotent', maxRetries: 1, retryBackoff: { initialMs: 50, multiplier: 2, maxMs: 200 },
    markOn: ['segfault', 'oom', 'gpu'], taintMs: 5_000,
  },
  // #endregion crash-barrier
  pools: [
    { name: 'web', poolSize: 2 },                    // the built-in showcase adapter
    // #region recycling
    {
      name: 'batch',
      poolSize: 1,
      workerMaxRequests: 3,                          // a fresh process after every 3 calls
      workerTtl: { value: 1, unit: 'hours' },        // ...and after an hour at the latest
      memoryThresholdMb: 1_024,                      // ...or once its RSS passes 1 GiB
      heartbeat: { timeoutMs: 2_000 },               // overrides one field of the top-level heartbeat
    },
    // #endregion recycling
  ],
});
