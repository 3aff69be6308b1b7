// The fault-tolerance guide's config: `npx snakepit run examples/fault-tolerance.ts --config examples/fault-tolerance.config.ts`.
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [{ name: 'default', poolSize: 2 }], // the built-in showcase adapter
  // One breaker per pool: after 5 pool failures in a row (crashes, hangs, timeouts), calls
  // reject at once with circuit_open for 30 s instead of queueing for workers that keep dying.
  circuitBreaker: { enabled: true, failureThreshold: 5, resetTimeoutMs: 30_000 },
});
