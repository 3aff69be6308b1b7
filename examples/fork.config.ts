// The start-modes example's config: `npx snakepit run examples/fork.ts --config examples/fork.config.ts`.
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [
    // #region pool
    {
      name: 'embed',
      startMode: 'fork',                   // fork workers from a template that ran preload() once
      poolSize: 3,
      adapter: 'embeddings_adapter.EmbeddingsAdapter',
      pythonPath: ['./examples/python'],
    },
    // #endregion pool
  ],
});
