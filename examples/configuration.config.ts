// guides/configuration.md's complete example: three pools, global options, heartbeats, logging and
// the optional features. `NODE_ENV=production` switches a few values (environment-specific overrides).
// #region complete
import { defineConfig } from 'snakepit';

const production = process.env.NODE_ENV === 'production';

export default defineConfig({
  // #region global
  // Global options: every pool inherits them unless it sets its own.
  poolStartupTimeoutMs: 30_000,
  poolQueueTimeoutMs: 10_000,
  poolMaxQueueSize: production ? 10_000 : 5_000,
  logLevel: production ? 'warn' : 'info',
  // #endregion global

  // #region heartbeat
  heartbeat: { enabled: true, pingIntervalMs: 5_000, timeoutMs: 15_000, maxMissedHeartbeats: 3 },
  // #endregion heartbeat

  pools: [
    // #region pool-process
    {
      // I/O-bound tools: one call at a time per process
      name: 'default',
      workerProfile: 'process',
      poolSize: production ? 50 : 4,
      adapter: 'myapp.adapters.GeneralAdapter',
      pythonPath: ['./python'], // relative to the working directory
      adapterEnv: { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
      startupBatchSize: 10,
      startupBatchDelayMs: 500,
    },
    // #endregion pool-process
    // #region pool-thread
    {
      // CPU-bound inference on a thread-safe adapter: 4 processes x 8 threads = 32 calls at once
      name: 'ml_inference',
      workerProfile: 'thread',
      poolSize: 4,
      threadsPerWorker: 8,
      adapter: 'myapp.ml.InferenceAdapter',
      pythonPath: ['./python'],
      adapterEnv: { CUDA_VISIBLE_DEVICES: '0', PYTORCH_CUDA_ALLOC_CONF: 'max_split_size_mb:512' },
      workerTtl: { value: 1800, unit: 'seconds' },
      workerMaxRequests: 10_000,
      heartbeat: { pingIntervalMs: 10_000, timeoutMs: 60_000, maxMissedHeartbeats: 2 }, // overrides single fields
      defaultTimeoutMs: 120_000,
      toolTimeouts: { train: 3_600_000, health: 2_000 }, // over defaultTimeoutMs; a call's own timeoutMs wins
      crashBarrier: { retry: 'never' }, // this pool's override of the top-level crashBarrier (one field)
    },
    // #endregion pool-thread
    // #region pool-background
    {
      name: 'background',
      poolSize: 2,
      adapter: 'myapp.adapters.BackgroundAdapter',
      pythonPath: ['./python'],
      adapterEnv: { SNAKEPIT_LOG_LEVEL: 'warning' }, // Python's log level for this pool only
      workerTtl: { value: 1, unit: 'hours' },
      memoryThresholdMb: 2_048,
    },
    // #endregion pool-background
  ],

  // #region optional
  crashBarrier: { enabled: true, maxRestarts: 10, windowSeconds: 300 },
  circuitBreaker: { enabled: true, failureThreshold: 5, resetTimeoutMs: 30_000 },
  zeroCopy: { enabled: true, thresholdBytes: 1_048_576 },
  // #endregion optional
});
// #endregion complete
