/**
 * `/metrics`: one Prometheus exposition (format 0.0.4) made by prom-client: the instance's pool
 * gauges and counters from its snapshot, merged with the process-wide `telemetry.metrics()`.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { InstanceSnapshot, PoolSnapshot } from './snapshot.js';

/** The Content-Type of the exposition. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value: (pool: PoolSnapshot) => number | null;
}

const FAMILIES: Family[] = [
  { name: 'snakepit_pool_workers', help: 'Live workers.', type: 'gauge', value: (p) => p.stats.workers },
  { name: 'snakepit_pool_workers_available', help: 'Workers able to take a call now.', type: 'gauge', value: (p) => p.stats.available },
  { name: 'snakepit_pool_workers_busy', help: 'Workers running a call.', type: 'gauge', value: (p) => p.stats.busy },
  { name: 'snakepit_pool_queue_depth', help: 'Calls waiting for a worker.', type: 'gauge', value: (p) => p.stats.queued },
  { name: 'snakepit_pool_requests_total', help: 'Calls admitted.', type: 'counter', value: (p) => p.stats.requests },
  { name: 'snakepit_pool_errors_total', help: 'Calls that failed.', type: 'counter', value: (p) => p.stats.errors },
  { name: 'snakepit_pool_queue_timeouts_total', help: 'Calls that timed out in the queue.', type: 'counter', value: (p) => p.stats.queueTimeouts },
  { name: 'snakepit_pool_recycles_total', help: 'Workers recycled, all reasons.', type: 'counter', value: (p) => p.stats.recycled },
  { name: 'snakepit_pool_crashes_total', help: 'Workers that died unasked.', type: 'counter', value: (p) => p.health.crashes },
  { name: 'snakepit_pool_calls_per_second', help: 'Calls finished per second over the recent window.', type: 'gauge', value: (p) => p.calls.callsPerSec },
  { name: 'snakepit_pool_latency_p50_ms', help: 'Median call duration over the recent window, in ms.', type: 'gauge', value: (p) => p.calls.p50Ms },
  { name: 'snakepit_pool_latency_p99_ms', help: '99th percentile call duration over the recent window, in ms.', type: 'gauge', value: (p) => p.calls.p99Ms },
];

/**
 * `snapshot`'s families in a prom-client registry of their own (one per scrape); a pool's series
 * carry `run_id` and `pool` labels. Families named in `skip` are left out (the process-wide
 * registry has them: Prometheus rejects a family given twice).
 */
export function snapshotRegistry(snapshot: InstanceSnapshot, skip: ReadonlySet<string> = new Set()): Registry {
  const registry = new Registry();
  for (const family of FAMILIES) {
    if (skip.has(family.name)) continue;
    const Metric = family.type === 'counter' ? Counter : Gauge;
    const metric = new Metric({ name: family.name, help: family.help, labelNames: ['run_id', 'pool'], registers: [registry] });
    for (const pool of snapshot.pools) {
      const value = family.value(pool);
      // A percentile of no calls is not 0: leave the series out rather than report a fake value.
      if (value === null) continue;
      const labels = { run_id: snapshot.runId, pool: pool.name };
      if (metric instanceof Counter) metric.inc(labels, value);
      else metric.set(labels, value);
    }
  }
  return registry;
}

/** `snapshot`'s families alone, as Prometheus text. */
export function metricsText(snapshot: InstanceSnapshot, skip?: ReadonlySet<string>): Promise<string> {
  return snapshotRegistry(snapshot, skip).metrics();
}

/** What the exposition needs of `telemetry.metrics()` (a prom-client registry). */
export interface RegistryLike {
  readonly registry: Registry;
}

/**
 * The whole `/metrics` exposition, one prom-client registry: the snapshot's families merged with
 * those of `telemetry.metrics()` (the latter win a name both have).
 */
export async function exposition(snapshot: InstanceSnapshot, metrics: RegistryLike | undefined): Promise<string> {
  if (!metrics) return metricsText(snapshot);
  const names = new Set(metrics.registry.getMetricsAsArray().map((m) => m.name));
  return Registry.merge([snapshotRegistry(snapshot, names), metrics.registry]).metrics();
}
