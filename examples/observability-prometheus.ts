// A Prometheus scrape endpoint: run with `npx snakepit run examples/observability-prometheus.ts`.
// `telemetry.metrics()` is a prom-client registry of the pool metrics; serve it at /metrics.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execute, telemetry } from 'snakepit';

// #region serve
const metrics = telemetry.metrics(); // or merge into your registry: Registry.merge([register, metrics.registry])
const server = createServer(async (req, res) => {
  if (req.url !== '/metrics') return res.writeHead(404).end();
  res.writeHead(200, { 'Content-Type': metrics.contentType }).end(await metrics.text());
});
// #endregion serve
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;

for (let i = 0; i < 5; i++) await execute('add', { a: i, b: 1 });
await execute('raise_error', { message: 'for the metrics' }).catch(() => undefined);

// What Prometheus would scrape (here: the lines about calls and queue depth).
const body = await (await fetch(url)).text();
for (const line of body.split('\n')) {
  if (/^snakepit_(call_duration_seconds_count|call_exceptions_total|pool_queue_depth)/.test(line)) console.log(line);
}
server.close();
