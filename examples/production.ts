// Production checks: `npx snakepit run examples/production.ts --config examples/production.config.ts`.
// The TypeScript blocks of guides/production.md are regions of this file.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Snakepit } from 'snakepit';
import { telemetry } from 'snakepit';

export default async function main(sp: Snakepit): Promise<void> {
  // #region ops-events
  // Attach before the load arrives: recycles, crashes, missed heartbeats and shed load, one line each.
  telemetry.attach(
    'ops',
    ['snakepit.pool.worker.recycled', 'snakepit.worker.crash', 'snakepit.heartbeat.missed', 'snakepit.pool.queue.timeout', 'snakepit.pool.saturated'],
    (event, _measurements, metadata) => console.log(`[ops] ${event} ${JSON.stringify(metadata)}`),
  );
  // #endregion ops-events

  // #region health-endpoint
  // A readiness probe for a load balancer or Kubernetes: 200 while every pool can take calls.
  const probe = createServer((_req, res) => {
    const pools = sp.poolNames.map((name) => ({ name, ...sp.health(name) }));
    const ready = pools.every((p) => p.status !== 'unhealthy');
    res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(pools.map(({ name, status, workers, size }) => ({ name, status, workers, size }))));
  });
  // #endregion health-endpoint
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const response = await fetch(`http://127.0.0.1:${(probe.address() as AddressInfo).port}/`);
  console.log('probe', response.status, await response.text());
  probe.close();

  await sp.execute('add', { a: 1, b: 2 });
  // #region recycle
  // What workerTtl, workerMaxRequests and memoryThresholdMb do on their own, by hand:
  const [first] = sp.listWorkers('default');
  if (first) await sp.recycleWorker('default', first.id);
  // #endregion recycle
  console.log('after recycle', sp.health('default').status, sp.listWorkers('default').length === sp.config.pools[0]?.poolSize);
  telemetry.detach('ops');
}
