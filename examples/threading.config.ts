// The thread-profile guide's config: `npx snakepit run examples/threading.ts --config examples/threading.config.ts`.
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [
    {
      name: 'hpc',
      workerProfile: 'thread',
      poolSize: 2, //                2 processes
      threadsPerWorker: 8, //        8 calls at once each: capacity 16
      adapter: 'snakepit_bridge.adapters.threaded_showcase.ThreadedShowcaseAdapter',
      threadSafetyChecks: true, //   development: report races (see "Testing")
    },
    {
      name: 'ml',
      workerProfile: 'thread',
      poolSize: 1,
      threadsPerWorker: 8,
      adapter: 'thread_safety.MyAdapter', // examples/python/thread_safety.py (imports numpy)
      pythonPath: ['./examples/python'],
    },
  ],
});
