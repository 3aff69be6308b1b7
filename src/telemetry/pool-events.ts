/**
 * Pool and worker lifecycle events on the bus, derived from the pool's own EventEmitter events so
 * that the pool needs no telemetry code: spawn (timed around `Worker.start`), terminated,
 * restarted, recycled, heartbeat, crash barrier, status, initialized.
 */
import { performance } from 'node:perf_hooks';
import type { Pool } from '../pool/pool.js';
import type { SessionStore } from '../session/session-store.js';
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

/** Forwards `pool`'s events to the bus for as long as the pool lives. */
export function forwardPoolEvents(pool: Pool): void {
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
  pool.on('worker:removed', (info, crash) => {
    crashed = Math.max(0, crashed - 1);
    emit('snakepit.crash_barrier.slot_removed', {}, { pool: name, workerId: info.id, reason: crash.reason });
  });
  pool.on('worker:ready', (info) => {
    if (crashed === 0) return;
    crashed--;
    emit('snakepit.pool.worker.restarted', {}, { pool: name, workerId: info.id });
  });
  pool.on('worker:recycled', (info, reason) => emit('snakepit.pool.worker.recycled', {}, { pool: name, workerId: info.id, reason }));
  pool.on('worker:heartbeat-missed', (info, miss) =>
    emit('snakepit.heartbeat.missed', { missed: miss.missed }, { pool: name, workerId: info.id, maxMissed: miss.maxMissed }),
  );
  pool.on('worker:heartbeat-recovered', (info, before) => emit('snakepit.heartbeat.recovered', { missedBefore: before }, { pool: name, workerId: info.id }));
  pool.on('health', (health) => {
    if (!enabled('snakepit.pool.status')) return;
    const { workers, available, busy, queued } = pool.stats();
    emit('snakepit.pool.status', { workers, available, busy, queued }, { pool: name, status: health.status });
  });
}

/** Starts `pool` with its events bridged, then emits `snakepit.pool.initialized`. */
export async function startObserved(pool: Pool): Promise<void> {
  forwardPoolEvents(pool);
  const startedAt = performance.now();
  await pool.start();
  emit('snakepit.pool.initialized', { durationMs: performance.now() - startedAt, workers: pool.stats().workers }, { pool: pool.name });
}

/** Forwards a session store's events: `snakepit.session.created` and `snakepit.session.ended`. */
export function forwardSessionEvents(store: SessionStore): void {
  store.on('session:created', (record) => emit('snakepit.session.created', { ttlMs: record.ttlMs }, { sessionId: record.id }));
  store.on('session:ended', (record, reason) => {
    if (!enabled('snakepit.session.ended')) return;
    emit('snakepit.session.ended', { lifetimeMs: Date.now() - record.createdAt, calls: record.stats.calls }, { sessionId: record.id, reason });
  });
}
