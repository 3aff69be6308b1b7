// The graceful-serialization guide's config:
// `npx snakepit run examples/graceful-serialization.ts --config examples/graceful-serialization.config.ts`.
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [{ name: 'default', poolSize: 1, adapter: 'serialization_adapter.SerializationAdapter', pythonPath: ['./examples/python'] }],
  serialization: 'graceful', // the default; 'repr' or 'strict'
});
