/**
 * Pool and worker lifecycle events on the bus, derived from the pool's own EventEmitter events so
 * that the pool needs no telemetry code: spawn (timed around `Worker.start`), terminated,
 * restarted, recycled, heartbeat, crash barrier, status (on health changes and periodically),
 * initialized.
 */
import { performance } from 'node:perf_hooks';
import type { Pool } from '../pool/pool.js';
import type { Worker } from '../worker/worker.js';
import { emit, enabled } from './bus.js';
import { trackPool } from './metrics.js';
import { registerWorker } from './python-events.js';

/** Runs `start` (a worker's spawn and handshake) between spawn_started and spawned/spawn_failed. */
export async function traceSpawn(pool: string, workerId: string, start: () => Promise<Worker>): Promise<Worker> {
  const startedAt = performance.now();
  if (enabled('snakepit.pool.worker.spawn_started')) emit('snakepit.pool.worker.spawn_started', { systemTime: Date.now() }, { pool, workerId });
  try {
    const worker = await start();
    worker.once('exit', registerWorker(worker));
    if (enabled('snakepit.pool.worker.spawned')) emit('snakepit.pool.worker.spawned', { durationMs: performance.now() - startedAt }, { pool, workerId, pid: worker.pid });
    return worker;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    emit('snakepit.pool.worker.spawn_failed', { durationMs: performance.now() - startedAt }, { pool, workerId, code: typeof code === 'string' ? code : undefined });
    throw error;
  }
}

/** Emits one `snakepit.pool.status` snapshot of `pool` (when anyone listens). */
function emitStatus(pool: Pool, trigger: 'interval' | 'health', status?: string): void {
  if (!enabled('snakepit.pool.status')) return;
  const { workers, available, busy, queued } = pool.stats();
  const metadata = { pool: pool.name, status: status ?? pool.health().status, trigger };
  emit('snakepit.pool.status', { queueDepth: queued, availableWorkers: available, busyWorkers: busy, totalWorkers: workers }, metadata);
}

/** Forwards `pool`'s events to the bus for as long as the pool lives. */
export function forwardPoolEvents(pool: Pool, memoryThresholdMb?: number): void {
  const name = pool.name;
  trackPool(pool);
  // Slots whose worker crashed: the next worker:ready of the pool is their replacement.
  let crashed = 0;
  pool.on('worker:exit', (info, exit) => {
    if (!enabled('snakepit.pool.worker.terminated')) return;
    emit(
      'snakepit.pool.worker.terminated',
      { lifetimeMs: Date.now() - info.startedAt },
      { pool: name, workerId: info.id, expected: exit.expected, reason: exit.reason, exitCode: exit.exitCode, signal: exit.signal },
    );
  });
  pool.on('worker:crash', (info, crash) => {
    crashed++;
    emit('snakepit.worker.crash', {}, { pool: name, workerId: info.id, reason: crash.reason });
  });
  pool.on('worker:tainted', (info, crash, durationMs) => {
    if (!enabled('snakepit.worker.tainted')) return;
    const { reason, classification, exitCode, signal, device } = crash;
    emit('snakepit.worker.tainted', { durationMs }, { pool: name, workerId: info.id, reason, classification, exitCode, signal, ...(device ? { device } : {}) });
  });
  pool.on('worker:removed', (info, crash) => {
    crashed = Math.max(0, crashed - 1);
    emit('snakepit.crash_barrier.slot_removed', {}, { pool: name, workerId: info.id, reason: crash.reason });
  });
  pool.on('worker:ready', (info) => {
    if (crashed === 0) return;
    crashed--;
    emit('snakepit.pool.worker.restarted', {}, { pool: name, workerId: info.id });
  });
  pool.on('worker:recycled', (info, reason, memoryMb) => {
    if (!enabled('snakepit.pool.worker.recycled')) return;
    const measurements = { uptimeMs: Date.now() - info.startedAt, requests: info.requests, ...(memoryMb === undefined ? {} : { memoryMb }) };
    emit('snakepit.pool.worker.recycled', measurements, { pool: name, workerId: info.id, reason, ...(memoryThresholdMb === undefined ? {} : { memoryThresholdMb }) });
  });
  pool.on('worker:heartbeat-missed', (info, miss) =>
    emit('snakepit.heartbeat.missed', { missed: miss.missed }, { pool: name, workerId: info.id, maxMissed: miss.maxMissed }),
  );
  pool.on('worker:heartbeat-recovered', (info, before) => emit('snakepit.heartbeat.recovered', { missedBefore: before }, { pool: name, workerId: info.id }));
  pool.on('health', (health) => emitStatus(pool, 'health', health.status));
}

/** Status timers of the observed pools, cleared by `stopObserved`. */
const statusTimers = new WeakMap<Pool, NodeJS.Timeout>();

/**
 * Starts `pool` with its events forwarded, then emits `snakepit.pool.initialized` and from then on a
 * `snakepit.pool.status` snapshot every `statusIntervalMs` while anyone listens (the timer is
 * unref'd: it never keeps the process alive).
 */
export async function startObserved(pool: Pool, options: { statusIntervalMs: number; memoryThresholdMb?: number | undefined }): Promise<void> {
  forwardPoolEvents(pool, options.memoryThresholdMb);
  const startedAt = performance.now();
  await pool.start();
  emit('snakepit.pool.initialized', { durationMs: performance.now() - startedAt, workers: pool.stats().workers }, { pool: pool.name });
  const timer = setInterval(() => emitStatus(pool, 'interval'), options.statusIntervalMs);
  timer.unref();
  statusTimers.set(pool, timer);
}

/** Stops `pool`'s periodic status (before the pool stops). */
export function stopObserved(pool: Pool): void {
  clearInterval(statusTimers.get(pool));
  statusTimers.delete(pool);
}
