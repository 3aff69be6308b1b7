/**
 * `/metrics`: a minimal hand-written Prometheus text exposition (format 0.0.4) of a snapshot's
 * pool gauges and counters. Kept apart so a metrics library can replace it without touching the
 * server.
 */
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
 * Renders `snapshot` as Prometheus text; a pool's series carry `run_id` and `pool` labels.
 * Families named in `skip` are left out (another registry in the same exposition has them:
 * Prometheus rejects a family given twice).
 */
export function metricsText(snapshot: InstanceSnapshot, skip: ReadonlySet<string> = new Set()): string {
  const lines: string[] = [];
  for (const family of FAMILIES) {
    if (skip.has(family.name)) continue;
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const pool of snapshot.pools) {
      const value = family.value(pool);
      // A percentile of no calls is not 0: leave the series out rather than report a fake value.
      if (value === null) continue;
      lines.push(`${family.name}{run_id="${label(snapshot.runId)}",pool="${label(pool.name)}"} ${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** What the exposition needs of `telemetry.metrics()` (a prom-client registry). */
export interface RegistryLike {
  readonly registry: { getMetricsAsArray(): readonly { name: string }[] };
  text(): Promise<string>;
}

/**
 * The whole `/metrics` exposition: the snapshot's families, then, once `telemetry.metrics()` has
 * been created, its registry's — each family once (the registry's win a name both have).
 */
export async function exposition(snapshot: InstanceSnapshot, registry: RegistryLike | undefined): Promise<string> {
  if (!registry) return metricsText(snapshot);
  const names = new Set(registry.registry.getMetricsAsArray().map((m) => m.name));
  const extra = await registry.text();
  return metricsText(snapshot, names) + (extra.endsWith('\n') || extra === '' ? extra : `${extra}\n`);
}

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
