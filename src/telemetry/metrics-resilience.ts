/**
 * Metric families of what the original's `Telemetry.Handlers.Metrics` and `TelemetryMetrics`
 * measure about failures: circuit breakers, retries, heartbeats, and errors by category, ML kind
 * and Python type. Prometheus names in base units (seconds, bytes); each family is fed by one
 * group of bus events.
 */
import { Counter, Gauge, Summary, type Registry } from 'prom-client';
import type { Pool } from '../pool/pool.js';
import { attach } from './bus.js';

/** A summary of the shape every Snakepit summary has: median, p90 and p99 over the last 10 minutes. */
export function summary<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Summary<L> {
  return new Summary({ name, help, labelNames, percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 600, ageBuckets: 5, registers: [registry] });
}

/** `closed` 0, `half-open` 1, `open` 2: the breaker state gauge's values. */
const STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/** A label value: `none` for a missing one. */
export const label = (value: unknown): string => (value === undefined || value === null ? 'none' : String(value));

/** Breakers: state (pools' from their stats, standalone ones' from their events), transitions, calls. */
function breakerMetrics(registry: Registry, pools: ReadonlyMap<string, Pool>): void {
  const seen = new Map<string, keyof typeof STATE_VALUE>();
  new Gauge({
    name: 'snakepit_circuit_breaker_state',
    help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open (a pool\'s breaker, or a CircuitBreaker by name).',
    labelNames: ['pool'],
    registers: [registry],
    collect() {
      this.reset();
      const states = new Map(seen);
      for (const [name, pool] of pools) {
        const state = pool.stats().circuitBreaker?.state;
        if (state) states.set(name, state);
      }
      for (const [name, state] of states) this.set({ pool: name }, STATE_VALUE[state]);
    },
  });
  const counter = (name: string, help: string, labelNames: string[]) => new Counter({ name, help, labelNames, registers: [registry] });
  const opened = counter('snakepit_circuit_breaker_opened_total', 'Times a circuit breaker opened, by reason.', ['pool', 'reason']);
  const closed = counter('snakepit_circuit_breaker_closed_total', 'Times a circuit breaker closed.', ['pool']);
  const halfOpen = counter('snakepit_circuit_breaker_half_open_total', 'Times a circuit breaker let probes through.', ['pool']);
  const calls = counter('snakepit_circuit_breaker_calls_total', 'Calls a circuit breaker let through (allowed) or refused (rejected).', ['pool', 'result']);
  const failureCount = new Gauge({ name: 'snakepit_circuit_breaker_failure_count', help: 'Failures in a row when the circuit breaker last opened.', labelNames: ['pool'], registers: [registry] });
  const duration = summary(registry, 'snakepit_circuit_breaker_call_duration_seconds', 'Duration of calls through a circuit breaker, by outcome.', ['pool', 'outcome']);
  attach(
    'snakepit-metrics-circuit-breaker',
    [
      'snakepit.circuit_breaker.opened',
      'snakepit.circuit_breaker.closed',
      'snakepit.circuit_breaker.half_open',
      'snakepit.circuit_breaker.call.allowed',
      'snakepit.circuit_breaker.call.rejected',
      'snakepit.circuit_breaker.call.success',
      'snakepit.circuit_breaker.call.failure',
    ],
    (event, measurements, metadata) => {
      const pool = label(metadata.pool);
      const m = measurements as { failureCount?: number; durationMs?: number };
      switch (event) {
        case 'snakepit.circuit_breaker.opened':
          seen.set(pool, 'open');
          opened.inc({ pool, reason: label((metadata as { reason?: string }).reason) });
          failureCount.set({ pool }, m.failureCount ?? 0);
          return;
        case 'snakepit.circuit_breaker.closed':
          seen.set(pool, 'closed');
          return closed.inc({ pool });
        case 'snakepit.circuit_breaker.half_open':
          seen.set(pool, 'half-open');
          return halfOpen.inc({ pool });
        case 'snakepit.circuit_breaker.call.allowed':
          return calls.inc({ pool, result: 'allowed' });
        case 'snakepit.circuit_breaker.call.rejected':
          return calls.inc({ pool, result: 'rejected' });
        default:
          duration.observe({ pool, outcome: event === 'snakepit.circuit_breaker.call.success' ? 'success' : 'failure' }, (m.durationMs ?? 0) / 1000);
      }
    },
  );
}

/** Retries: each retry, attempts a retried operation took, exhaustion, backoff delays. */
function retryMetrics(registry: Registry): void {
  const retries = new Counter({ name: 'snakepit_retries_total', help: 'Failed attempts that were retried (Executor retries and a pool\'s crash retries).', labelNames: ['pool'], registers: [registry] });
  const exhausted = new Counter({ name: 'snakepit_retry_exhausted_total', help: 'Operations that failed with no attempt left.', labelNames: ['pool'], registers: [registry] });
  const attempts = summary(registry, 'snakepit_retry_attempts', 'Attempts a retried operation took until it succeeded.', ['pool']);
  const backoff = summary(registry, 'snakepit_retry_backoff_seconds', 'Waits between attempts.', ['pool']);
  attach('snakepit-metrics-retry', ['snakepit.retry.attempt', 'snakepit.retry.success', 'snakepit.retry.exhausted', 'snakepit.retry.backoff'], (event, measurements, metadata) => {
    const pool = label(metadata.pool);
    const m = measurements as { attempts?: number; delayMs?: number };
    if (event === 'snakepit.retry.attempt') retries.inc({ pool });
    else if (event === 'snakepit.retry.success') attempts.observe({ pool }, m.attempts ?? 1);
    else if (event === 'snakepit.retry.exhausted') exhausted.inc({ pool });
    else backoff.observe({ pool }, (m.delayMs ?? 0) / 1000);
  });
}

/** Heartbeats: pings, pongs and their latency, misses, workers given up on. */
function heartbeatMetrics(registry: Registry): void {
  const counter = (name: string, help: string, labelNames: string[] = ['pool']) => new Counter({ name, help, labelNames, registers: [registry] });
  const pings = counter('snakepit_heartbeat_pings_total', 'Heartbeat pings sent.');
  const pongs = counter('snakepit_heartbeat_pongs_total', 'Heartbeat pongs received.');
  const missed = counter('snakepit_heartbeat_missed_total', 'Heartbeat pings that timed out or failed.');
  const failures = counter('snakepit_heartbeat_failures_total', 'Workers killed as hung after missing heartbeats, by reason.', ['pool', 'reason']);
  const latency = summary(registry, 'snakepit_heartbeat_latency_seconds', 'Heartbeat round trip.', ['pool']);
  attach(
    'snakepit-metrics-heartbeat',
    ['snakepit.heartbeat.ping_sent', 'snakepit.heartbeat.pong_received', 'snakepit.heartbeat.missed', 'snakepit.heartbeat.monitor_failure'],
    (event, measurements, metadata) => {
      const pool = label(metadata.pool);
      if (event === 'snakepit.heartbeat.ping_sent') pings.inc({ pool });
      else if (event === 'snakepit.heartbeat.missed') missed.inc({ pool });
      else if (event === 'snakepit.heartbeat.monitor_failure') failures.inc({ pool, reason: label((metadata as { failureReason?: string }).failureReason) });
      else {
        pongs.inc({ pool });
        latency.observe({ pool }, ((measurements as { latencyMs?: number }).latencyMs ?? 0) / 1000);
      }
    },
  );
}

const ML_KINDS = {
  'snakepit.error.shape_mismatch': 'shape_mismatch',
  'snakepit.error.dimension_error': 'dimension_error',
  'snakepit.error.device': 'device',
  'snakepit.error.oom': 'oom',
  'snakepit.error.dtype_mismatch': 'dtype_mismatch',
} as const;

/** Errors: every failed call by category, ML errors by kind, Python exceptions by type, dropped Python events. */
function errorMetrics(registry: Registry): void {
  const byCategory = new Counter({ name: 'snakepit_errors_total', help: 'Failed calls, by pool and error category (worker, timeout, python_error, grpc_error, validation, pool).', labelNames: ['pool', 'category'], registers: [registry] });
  const ml = new Counter({ name: 'snakepit_ml_errors_total', help: 'Calls that failed with an ML error, by kind (shape_mismatch, dimension_error, device, oom, dtype_mismatch).', labelNames: ['pool', 'kind'], registers: [registry] });
  const python = new Counter({ name: 'snakepit_python_exceptions_total', help: 'Calls that failed with another exception their tool raised, by Python type.', labelNames: ['pool', 'type'], registers: [registry] });
  const dropped = new Counter({ name: 'snakepit_python_events_dropped_total', help: 'Python telemetry events dropped as invalid, by reason.', labelNames: ['reason'], registers: [registry] });
  attach('snakepit-metrics-errors', ['snakepit.call.exception'], (_event, _m, metadata) => byCategory.inc({ pool: metadata.pool, category: label(metadata.category) }));
  attach('snakepit-metrics-ml-errors', [...(Object.keys(ML_KINDS) as (keyof typeof ML_KINDS)[]), 'snakepit.error.python_exception', 'snakepit.telemetry.dropped'], (event, _m, metadata) => {
    if (event === 'snakepit.telemetry.dropped') return dropped.inc({ reason: label((metadata as { reason?: string }).reason) });
    const pool = label((metadata as { pool?: string }).pool);
    if (event === 'snakepit.error.python_exception') return python.inc({ pool, type: label((metadata as { type?: string }).type) });
    ml.inc({ pool, kind: ML_KINDS[event] });
  });
}

/** Registers the failure-side families in `registry` and attaches their handlers. */
export function registerResilienceMetrics(registry: Registry, pools: ReadonlyMap<string, Pool>): void {
  breakerMetrics(registry, pools);
  retryMetrics(registry);
  heartbeatMetrics(registry);
  errorMetrics(registry);
}
