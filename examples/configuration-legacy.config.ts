// The legacy single-pool form: pool options at the top level, no `pools` (one pool named 'default').
import { defineConfig } from 'snakepit';

export default defineConfig({
  poolSize: 4,
  adapter: 'myapp.adapters.GeneralAdapter',
  pythonPath: ['./python'],
  startupBatchSize: 8,
  startupBatchDelayMs: 750,
});
