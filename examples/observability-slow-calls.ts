// A slow-call logger: run with `npx snakepit run examples/observability-slow-calls.ts`.
// Every call ends with `snakepit.call.stop` (or `.exception`) carrying its duration and correlation id.
import { execute, telemetry } from 'snakepit';

const SLOW_MS = 150;

telemetry.attach('slow-calls', ['snakepit.call.stop', 'snakepit.call.exception'], (event, { durationMs }, meta) => {
  if (durationMs < SLOW_MS) return;
  const outcome = event === 'snakepit.call.stop' ? 'ok' : `failed (${'code' in meta ? String(meta.code) : '?'})`;
  console.log(`slow call ${meta.tool} ${outcome} in ${Math.round(durationMs)} ms [pool ${meta.pool}, correlation ${meta.correlationId}]`);
});

await execute('ping');
await execute('sleep', { ms: 300 }, { correlationId: 'order-1234' });
await execute('sleep', { ms: 10 });
telemetry.detach('slow-calls');
console.log('done');
