// The events that were thin, from real workers: periodic pool.status with queue depth, heartbeat ping/pong with
// latency, session access/affinity/programs, worker.recycled with its memory, a pool breaker's call events and
// state in stats() and health(), a pool's crash retry as retry.attempt with its pool.
import { afterEach, describe, expect, it } from 'vitest';
import { telemetry, type Snakepit, type TelemetryEventName } from '../../../src/index.js';
import { startPool, waitForFullPool } from '../../helpers/pool.js';
import { recordTelemetry, type TelemetryRecorder } from '../../helpers/telemetry.js';

describe('lifecycle telemetry', () => {
  let sp: Snakepit | undefined;
  let rec: TelemetryRecorder | undefined;
  const record = (names: TelemetryEventName[]) => (rec = recordTelemetry(names));
  afterEach(async () => {
    rec?.stop();
    rec = undefined;
    await sp?.stop();
    sp = undefined;
  });

  it('pool.status comes every poolStatusIntervalMs with queueDepth and availableWorkers (so a queue alert fires)', async () => {
    ({ sp } = await startPool({ adapter: 'slow_adapter.SlowAdapter', poolQueueTimeoutMs: 30_000 }, { poolStatusIntervalMs: 50 }));
    const r = record(['snakepit.pool.status']);
    await r.until((seen) => seen.length >= 2, 'two idle snapshots');
    expect(r.seen[0]).toMatchObject({ measurements: { queueDepth: 0, availableWorkers: 1, busyWorkers: 0, totalWorkers: 1 }, metadata: { pool: 'default', status: 'healthy', trigger: 'interval' } });
    const calls = [sp.execute('slow', { ms: 1_500 }), sp.execute('slow', { ms: 1 })];
    await r.until((seen) => seen.some((e) => e.measurements.queueDepth === 1), 'a snapshot with the queued call');
    expect(r.seen.find((e) => e.measurements.queueDepth === 1)!.measurements).toMatchObject({ availableWorkers: 0, busyWorkers: 1 });
    await Promise.all(calls);
  });

  it('heartbeat pings and pongs, with the round trip in latencyMs', async () => {
    ({ sp } = await startPool({ heartbeat: { pingIntervalMs: 50 } }));
    const r = record(['snakepit.heartbeat.ping_sent', 'snakepit.heartbeat.pong_received']);
    await r.until((seen) => seen.filter((e) => e.event === 'snakepit.heartbeat.pong_received').length >= 2, 'two pongs');
    const pong = r.seen.find((e) => e.event === 'snakepit.heartbeat.pong_received')!;
    expect(pong.metadata).toMatchObject({ pool: 'default', workerId: sp.listWorkers()[0]!.id });
    expect(pong.measurements.latencyMs).toBeGreaterThanOrEqual(0);
    expect(r.seen[0]!.event).toBe('snakepit.heartbeat.ping_sent');
  });

  it("a session's calls: accessed each time, affinity assigned on its first worker; programs stored, retrieved, deleted", async () => {
    ({ sp } = await startPool({ adapter: 'echo_adapter.EchoAdapter' }));
    const r = record([
      'snakepit.session.accessed',
      'snakepit.session.affinity.assigned',
      'snakepit.session.program.stored',
      'snakepit.session.program.retrieved',
      'snakepit.session.program.deleted',
    ]);
    const session = sp.session('tel-s1');
    await session.execute('pid');
    await session.execute('pid');
    const workerId = sp.listWorkers()[0]!.id;
    sp.sessions.putProgram('tel-s1', 'prog-1', { steps: 3 });
    expect(sp.sessions.getProgram('tel-s1', 'prog-1')).toEqual({ steps: 3 });
    sp.sessions.deleteProgram('tel-s1', 'prog-1');
    expect(r.seen.map((e) => [e.event, e.measurements])).toEqual([
      ['snakepit.session.affinity.assigned', {}],
      ['snakepit.session.accessed', { calls: 1 }],
      ['snakepit.session.accessed', { calls: 2 }],
      ['snakepit.session.program.stored', {}],
      ['snakepit.session.program.retrieved', {}],
      ['snakepit.session.program.deleted', {}],
    ]);
    expect(r.seen[0]!.metadata).toEqual({ sessionId: 'tel-s1', pool: 'default', workerId, previousWorkerId: undefined });
    expect(r.seen[4]!.metadata).toEqual({ sessionId: 'tel-s1', programId: 'prog-1', found: true });
    expect(r.seen[5]!.metadata).toEqual({ sessionId: 'tel-s1', programId: 'prog-1', existed: true });
  });

  it("a session's worker dying breaks its affinity; its next call is assigned to the replacement", async () => {
    ({ sp } = await startPool({ adapter: 'crash_adapter.CrashAdapter' }));
    const r = record(['snakepit.session.affinity.assigned', 'snakepit.session.affinity.broken']);
    const session = sp.session('tel-s2');
    await session.execute('pid');
    const first = sp.listWorkers()[0]!.id;
    await expect(session.execute('crash')).rejects.toMatchObject({ code: 'worker_crashed' });
    await r.untilEvent('snakepit.session.affinity.broken');
    expect(r.seen.at(-1)!.metadata).toMatchObject({ sessionId: 'tel-s2', pool: 'default', workerId: first });
    await waitForFullPool(sp, 1);
    await session.execute('pid');
    expect(r.seen.at(-1)).toMatchObject({ event: 'snakepit.session.affinity.assigned', metadata: { previousWorkerId: first } });
  });

  it('worker.recycled carries the memory the worker held, its uptime and calls', async () => {
    ({ sp } = await startPool({ poolSize: 1, adapter: 'recycle_adapter.RecycleAdapter', memoryThresholdMb: 120, lifecycleCheckIntervalMs: 100, poolQueueTimeoutMs: 30_000 }));
    const r = record(['snakepit.pool.worker.recycled']);
    await sp.execute('hold_memory', { mb: 150 });
    await r.untilEvent('snakepit.pool.worker.recycled');
    const [event] = r.seen;
    expect(event!.metadata).toMatchObject({ pool: 'default', reason: 'memory', memoryThresholdMb: 120 });
    expect(event!.measurements.memoryMb).toBeGreaterThan(120);
    expect(event!.measurements.requests).toBe(1);
    expect(event!.measurements.uptimeMs).toBeGreaterThan(0);
  });

  it("a pool's breaker: call events with the pool, opened with its reason, its state in stats() and health()", async () => {
    ({ sp } = await startPool({ adapter: 'crash_adapter.CrashAdapter' }, { circuitBreaker: { enabled: true, failureThreshold: 2, resetTimeoutMs: 60_000 } }));
    expect(sp.stats('default').circuitBreaker).toMatchObject({ state: 'closed', failureCount: 0 });
    expect(sp.health('default').circuitBreaker).toBe('closed');
    const r = record(['snakepit.circuit_breaker.call.allowed', 'snakepit.circuit_breaker.call.success', 'snakepit.circuit_breaker.call.failure', 'snakepit.circuit_breaker.call.rejected', 'snakepit.circuit_breaker.opened']);
    await sp.execute('pid');
    for (let i = 0; i < 2; i++) {
      await expect(sp.execute('crash')).rejects.toMatchObject({ code: 'worker_crashed' });
      await waitForFullPool(sp, 1);
    }
    await expect(sp.execute('pid')).rejects.toMatchObject({ code: 'circuit_open' });
    expect(r.names()).toEqual([
      'snakepit.circuit_breaker.call.allowed',
      'snakepit.circuit_breaker.call.success',
      'snakepit.circuit_breaker.call.allowed',
      'snakepit.circuit_breaker.call.failure',
      'snakepit.circuit_breaker.call.allowed',
      'snakepit.circuit_breaker.opened',
      'snakepit.circuit_breaker.call.failure',
      'snakepit.circuit_breaker.call.rejected',
    ]);
    expect(r.seen[5]).toMatchObject({ measurements: { failureCount: 2 }, metadata: { pool: 'default', reason: 'failure_threshold' } });
    expect(r.seen[3]!.metadata).toEqual({ pool: 'default', error: 'worker_crashed' });
    expect(sp.stats('default').circuitBreaker).toMatchObject({ state: 'open', rejectedCount: 1 });
    expect(sp.health('default').circuitBreaker).toBe('open');
    const text = await telemetry.metrics().text();
    expect(text).toMatch(/^snakepit_circuit_breaker_state\{pool="default"\} 2$/m);
  });

  it('a pool retrying an idempotent call after its worker crashed emits retry.attempt with the pool, the tool and its backoff (the default 50 ms)', async () => {
    ({ sp } = await startPool({ adapter: 'crash_adapter.CrashAdapter', poolSize: 2 }, { crashBarrier: { enabled: true, maxRetries: 1, taintMs: 0 } }));
    const r = record(['snakepit.retry.attempt']);
    await expect(sp.execute('crash', {}, { idempotent: true })).rejects.toMatchObject({ code: 'worker_crashed' });
    expect(r.seen).toHaveLength(1);
    expect(r.seen[0]).toMatchObject({ measurements: { attempt: 1, delayMs: 50 }, metadata: { pool: 'default', operation: 'crash', lastError: { code: 'worker_crashed' } } });
  });
});
