// The data-plane guide's config: `npx snakepit run examples/data-plane.ts --config examples/data-plane.config.ts`.
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [{ name: 'default', poolSize: 2, adapter: 'data_plane_adapter.DataPlaneAdapter', pythonPath: ['./examples/python'] }],
  zeroCopy: { enabled: true, thresholdBytes: 1_048_576 }, // off by default; 1 MiB is the default threshold
  maxPayloadBytes: 32 * 1024 * 1024,                       // default 268435456 (256 MiB)
});
