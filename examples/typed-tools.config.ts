// The config of guides/typed-tools.md: one pool, and where `snakepit gen types` writes the declarations.
// #region config
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [{ name: 'default', poolSize: 1, adapter: 'typed_tools_adapter.ShopAdapter', pythonPath: ['./examples/python'] }],
  typesOut: './examples/types/typed-tools.d.ts', // default: snakepit-tools.d.ts
  validateArgs: true, // also check arguments on the host at run time, from the same types
});
// #endregion config
