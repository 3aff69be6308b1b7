// The worker-profiles guide's config: two pools, one per profile, the same adapter.
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [
    // #region process
    {
      name: 'io',                          // many processes, one call at a time each
      workerProfile: 'process',            // the default
      poolSize: 2,                         // capacity 2
      adapter: 'profiles_adapter.ProfilesAdapter',
      pythonPath: ['./examples/python'],
    },
    // #endregion process
    // #region thread
    {
      name: 'cpu',                         // few processes, several calls at once each
      workerProfile: 'thread',
      poolSize: 1,
      threadsPerWorker: 4,                 // capacity 1 × 4 = 4
      adapter: 'profiles_adapter.ProfilesAdapter',
      pythonPath: ['./examples/python'],
      adapterEnv: { MKL_NUM_THREADS: '1' },  // yours wins over the profile's default
    },
    // #endregion thread
  ],
});
