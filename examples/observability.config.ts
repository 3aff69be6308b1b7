// The observability guide's config: `npx snakepit run examples/observability.ts --config examples/observability.config.ts`.
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [{ name: 'default', poolSize: 1, adapter: 'telemetry_adapter.TelemetryAdapter', pythonPath: ['./examples/python'] }],
  poolStatusIntervalMs: 200, // snakepit.pool.status snapshots (default 5000)
});
