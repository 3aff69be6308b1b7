/**
 * Prometheus metrics with prom-client: everything the original measures (pool gauges, call
 * durations by tool, exceptions, spawns and crashes here; circuit breakers, retries, heartbeats,
 * errors by category in metrics-resilience.ts; hardware, GPU, sessions and recycling in
 * metrics-resources.ts), in a registry of our own (never prom-client's global one). Nothing is
 * attached until `metrics()` is first called (by the app, or the control endpoint's first
 * `/metrics` scrape), so an app that does not scrape pays nothing.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Pool } from '../pool/pool.js';
import type { SessionStore } from '../session/session-store.js';
import { attach } from './bus.js';
import { registerResilienceMetrics } from './metrics-resilience.js';
import { registerResourceMetrics } from './metrics-resources.js';

/** What `telemetry.metrics()` returns. */
export interface SnakepitMetrics {
  /** The registry: merge it into yours with `Registry.merge([yours, m.registry])`. */
  readonly registry: Registry;
  /** The Prometheus text exposition. */
  text(): Promise<string>;
  /** Its Content-Type header. */
  readonly contentType: string;
}

// Process-wide, also across two loaded copies of this package (a script run through a loader may
// get its own copy): the pools one copy tracks must show in the registry the other copy serves.
const shared = ((globalThis as Record<symbol, unknown>)[Symbol.for('snakepit.telemetry.metrics')] ??= {
  pools: new Map<string, Pool>(),
  instance: undefined,
}) as { pools: Map<string, Pool>; stores?: Set<SessionStore>; instance: SnakepitMetrics | undefined };
const pools = shared.pools;
const stores = (shared.stores ??= new Set<SessionStore>());

/** Pools whose gauges are reported (the latest pool of a name wins). */
export function trackPool(pool: Pool): void {
  pools.set(pool.name, pool);
}

/** Session stores whose live sessions `snakepit_sessions` counts (until `untrackSessions`). */
export function trackSessions(store: SessionStore): void {
  stores.add(store);
}

/** Stops counting a stopped instance's sessions. */
export function untrackSessions(store: SessionStore): void {
  stores.delete(store);
}

/** The metrics, created (and their handlers attached) on the first call. */
export function metrics(): SnakepitMetrics {
  if (shared.instance) return shared.instance;
  const registry = new Registry();
  const gauge = (name: string, help: string, read: (pool: Pool) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [name, pool] of pools) this.set({ pool: name }, read(pool));
      },
    });
  gauge('snakepit_pool_queue_depth', 'Calls waiting for a worker.', (p) => p.stats().queued);
  gauge('snakepit_pool_available_workers', 'Workers able to take a call now.', (p) => p.stats().available);
  gauge('snakepit_pool_busy_workers', 'Workers running a call.', (p) => p.stats().busy);
  gauge('snakepit_pool_workers', 'Live workers.', (p) => p.stats().workers);
  registry.registerMetric(callDurations() as never);
  const exceptions = new Counter({
    name: 'snakepit_call_exceptions_total',
    help: 'Failed calls, by pool, tool and error code.',
    labelNames: ['pool', 'tool', 'code'],
    registers: [registry],
  });
  const spawns = new Counter({ name: 'snakepit_worker_spawns_total', help: 'Worker starts, by pool and result.', labelNames: ['pool', 'result'], registers: [registry] });
  const crashes = new Counter({ name: 'snakepit_worker_crashes_total', help: 'Workers that died unasked.', labelNames: ['pool'], registers: [registry] });
  const queueTimeouts = new Counter({ name: 'snakepit_queue_timeouts_total', help: 'Calls that timed out in the queue.', labelNames: ['pool'], registers: [registry] });
  attach('snakepit-metrics', ['snakepit.call.exception'], (_event, _m, meta) => {
    exceptions.inc({ pool: meta.pool, tool: meta.tool, code: (meta as { code?: string }).code ?? 'unknown' });
  });
  attach('snakepit-metrics-workers', ['snakepit.pool.worker.spawned', 'snakepit.pool.worker.spawn_failed', 'snakepit.worker.crash', 'snakepit.pool.queue.timeout'], (event, _m, meta) => {
    const pool = String(meta.pool);
    if (event === 'snakepit.worker.crash') crashes.inc({ pool });
    else if (event === 'snakepit.pool.queue.timeout') queueTimeouts.inc({ pool });
    else spawns.inc({ pool, result: event === 'snakepit.pool.worker.spawned' ? 'ok' : 'failed' });
  });
  registerResilienceMetrics(registry, pools);
  registerResourceMetrics(registry, stores);
  shared.instance = { registry, text: () => registry.metrics(), contentType: registry.contentType };
  return shared.instance;
}

const QUANTILES = [0.5, 0.9, 0.99];

/**
 * `snakepit_call_duration_seconds`: a summary read, at each scrape, from what the pools record
 * of every call (`Pool.callDurations()`, the one source of call latency): quantiles, sum and count
 * by pool, tool and outcome since each pool started.
 */
function callDurations() {
  const name = 'snakepit_call_duration_seconds';
  const help = 'Call duration (queue wait + run), by pool, tool and outcome.';
  return {
    name,
    help,
    type: 'summary',
    aggregator: 'sum',
    reset() {},
    async get() {
      const values: { labels: Record<string, string | number>; value: number; metricName?: string }[] = [];
      for (const [pool, p] of pools) {
        for (const d of p.callDurations()) {
          const labels = { pool, tool: d.tool, outcome: d.ok ? 'ok' : 'error' };
          for (const q of QUANTILES) values.push({ labels: { ...labels, quantile: q }, value: d.quantile(q) });
          values.push({ metricName: `${name}_sum`, labels, value: d.sumSeconds }, { metricName: `${name}_count`, labels, value: d.count });
        }
      }
      return { name, help, type: 'summary', aggregator: 'sum', values };
    },
  };
}
