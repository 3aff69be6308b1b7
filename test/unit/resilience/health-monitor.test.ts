// HealthMonitor: crashes in a rolling window on a fake clock; pool crashes fed from worker:exit.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HealthMonitor, onResilienceEvent, WORKER_UNHEALTHY_CRASHES, type WorkerInfo } from '../../../src/index.js';

describe('HealthMonitor', () => {
  let monitor: HealthMonitor;
  beforeEach(() => {
    vi.useFakeTimers();
    monitor = new HealthMonitor({ pool: 'default', maxCrashes: 4, crashWindowMs: 10_000, checkIntervalMs: 1_000 });
  });
  afterEach(() => {
    monitor.close();
    vi.useRealTimers();
  });

  it("has the original's defaults", () => {
    const m = new HealthMonitor();
    expect(m).toMatchObject({ maxCrashes: 10, crashWindowMs: 60_000, checkIntervalMs: 30_000 });
    m.close();
  });

  it('is unhealthy at maxCrashes within the window, healthy again once they age out', () => {
    for (let i = 0; i < 3; i++) monitor.recordCrash(`w${i}`);
    expect(monitor.healthy()).toBe(true);
    vi.advanceTimersByTime(5_000);
    monitor.recordCrash('w3', { reason: 'segfault' });
    expect(monitor.healthy()).toBe(false);
    expect(monitor.stats()).toMatchObject({ pool: 'default', totalCrashes: 4, crashesInWindow: 4, isHealthy: false });
    // The first three leave the window 10 s after they happened.
    vi.advanceTimersByTime(5_000);
    expect(monitor.healthy()).toBe(true);
    expect(monitor.stats()).toMatchObject({ totalCrashes: 4, crashesInWindow: 1, isHealthy: true });
    expect(Object.keys(monitor.stats().workers)).toEqual(['w3']);
  });

  it('tracks each worker: count in window, last time, reasons', () => {
    monitor.recordCrash('w1', { reason: 'segfault' });
    const first = Date.now();
    expect(monitor.workerHealth('w1')).toStrictEqual({ healthy: true, crashCount: 1, lastCrashTime: first, crashReasons: [{ reason: 'segfault' }] });
    vi.advanceTimersByTime(100);
    monitor.recordCrash('w1', { reason: 'oom' });
    expect(monitor.workerHealth('w1')).toMatchObject({ crashCount: 2, lastCrashTime: first + 100 });
    expect(monitor.workerHealth('never')).toStrictEqual({ healthy: true, crashCount: 0, lastCrashTime: null, crashReasons: [] });
  });

  // The original's rule: `worker_health` answers `healthy: crash_count < 3`, a fixed threshold whatever
  // `max_crashes` is (spec, Fault Tolerance > Health Monitoring, reference lines 1146-1167: with the
  // default max_crashes 10, a worker with 5 crashes is `healthy: false`). Not half the pool's budget.
  it.each([4, 10, 100])('a worker is unhealthy from its 3rd crash within the window, whatever maxCrashes (%i)', (maxCrashes) => {
    const m = new HealthMonitor({ maxCrashes, crashWindowMs: 10_000 });
    m.recordCrash('w1');
    m.recordCrash('w1');
    expect(m.workerHealth('w1')).toMatchObject({ healthy: true, crashCount: 2 });
    m.recordCrash('w1');
    expect(m.workerHealth('w1')).toMatchObject({ healthy: false, crashCount: WORKER_UNHEALTHY_CRASHES });
    vi.advanceTimersByTime(10_000); // they leave the window
    expect(m.workerHealth('w1')).toMatchObject({ healthy: true, crashCount: 0 });
    m.close();
  });

  it('keeps at most 10 reasons per worker', () => {
    for (let i = 0; i < 15; i++) monitor.recordCrash('w1', { i });
    expect(monitor.workerHealth('w1').crashReasons).toHaveLength(10);
    expect(monitor.workerHealth('w1').crashReasons[0]).toEqual({ i: 5 });
  });

  it('emits worker.crash with the pool and worker', () => {
    const seen: unknown[] = [];
    const off = onResilienceEvent('worker.crash', (measurements, metadata) => seen.push(metadata));
    monitor.recordCrash('w9', { reason: 'segfault' });
    off();
    expect(seen).toEqual([{ pool: 'default', workerId: 'w9', reason: 'segfault' }]);
  });

  it('prunes old crashes on its interval timer', () => {
    monitor.recordCrash('w1');
    vi.advanceTimersByTime(11_000);
    expect(monitor.stats().workers).toEqual({});
    expect(vi.getTimerCount()).toBe(1);
    monitor.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("records a pool's unexpected worker exits and ignores the ones the host asked for", () => {
    const pool = Object.assign(new EventEmitter(), { name: 'ml' });
    const info = (id: string) => ({ id }) as WorkerInfo;
    const detach = monitor.attachToPool(pool);
    pool.emit('worker:exit', info('w1'), { exitCode: null, signal: 'SIGKILL', expected: false });
    pool.emit('worker:exit', info('w2'), { exitCode: 0, signal: null, expected: true });
    pool.emit('worker:exit', info('w3'), { exitCode: 1, signal: null, expected: false, reason: 'heartbeat' });
    detach();
    pool.emit('worker:exit', info('w4'), { exitCode: 1, signal: null, expected: false });
    expect(pool.listenerCount('worker:exit')).toBe(0);
    expect(monitor.stats()).toMatchObject({ totalCrashes: 2 });
    expect(monitor.workerHealth('w1').crashReasons).toEqual([{ pool: 'ml', exitCode: null, signal: 'SIGKILL', reason: 'signal SIGKILL' }]);
    expect(monitor.workerHealth('w3').crashReasons).toEqual([{ pool: 'ml', exitCode: 1, signal: null, reason: 'heartbeat' }]);
  });
});
