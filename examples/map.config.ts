// The map guide's config: `npx snakepit run examples/map.ts --config examples/map.config.ts`.
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [{
    name: 'default',
    poolSize: 2,                              // a map keeps both workers busy: one chunk in flight per worker
    adapter: 'batch_adapter.BatchAdapter',    // examples/python/batch_adapter.py
    pythonPath: ['./examples/python'],
  }],
});
