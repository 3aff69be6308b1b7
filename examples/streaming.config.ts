// The streaming guide's config: `npx snakepit run examples/streaming.ts --config examples/streaming.config.ts`.
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [{
    name: 'default',
    poolSize: 1,                                    // one worker: the calls below queue behind each other
    adapter: 'streaming_adapter.StreamingAdapter',  // examples/python/streaming_adapter.py
    pythonPath: ['./examples/python'],
    defaultStreamTimeoutMs: 60_000,                 // streams without a `timeoutMs` (default 300000)
    streamHighWaterMark: 64,                        // chunks a `stream()` loop may leave waiting before Python waits (the default)
  }],
});
