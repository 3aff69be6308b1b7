// The config of guides/python-adapters.md: one pool serving examples/python/my_adapter.py.
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [{ name: 'shop', poolSize: 2, adapter: 'my_adapter.MyAdapter', pythonPath: ['./examples/python'] }],
});
