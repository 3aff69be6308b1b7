// A queue-depth alert: run with `npx snakepit run examples/observability-queue-alert.ts`.
// `snakepit.pool.queue.enqueued` carries the queue depth after each call joins the queue.
import { execute, stats, telemetry } from 'snakepit';

const workers = stats().workers;
const ALERT_AT = 3;
let alerted = false;

telemetry.attach('queue-alert', ['snakepit.pool.queue.enqueued'], (_event, { queueDepth }, { pool }) => {
  if (queueDepth >= ALERT_AT && !alerted) {
    alerted = true;
    console.log(`ALERT pool ${pool}: ${queueDepth} calls waiting for a worker`);
  }
});
let longestWaitMs = 0;
telemetry.attach('queue-wait', ['snakepit.pool.queue.dequeued'], (_event, { waitMs }) => {
  longestWaitMs = Math.max(longestWaitMs, waitMs);
});

// More calls than workers: the rest queue up.
await Promise.all(Array.from({ length: workers + ALERT_AT }, () => execute('sleep', { ms: 200 })));
telemetry.detach('queue-alert');
telemetry.detach('queue-wait');
console.log(`alerted: ${alerted}`);
console.log(`longest queue wait: ${Math.round(longestWaitMs)} ms`);
