// The quickstart's config (`snakepit.config.ts` in your project; here passed with --config).
// #region config
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [{ name: 'default', poolSize: 2, adapter: 'quickstart_adapter.QuickstartAdapter', pythonPath: ['./examples/python'] }],
});
// #endregion config
