import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkerError } from '../../../src/errors.js';
import { combineHealth, PoolHealthState } from '../../../src/pool/health.js';
import { sumStats, type PoolStats } from '../../../src/pool/pool-types.js';
import { MAX_CONSECUTIVE_RESTART_FAILURES, Replacements } from '../../../src/pool/replacements.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('PoolHealthState', () => {
  it('healthy at full size, degraded below it or with removed slots, unhealthy after giving up or with no slot left', () => {
    const h = new PoolHealthState(2);
    expect(h.status(2)).toBe('healthy');
    expect(h.status(1)).toBe('degraded');
    h.removedSlots = 1;
    expect(h.status(1)).toBe('degraded');
    h.removedSlots = 2;
    expect(h.status(0)).toBe('unhealthy');
    const g = new PoolHealthState(2);
    g.gaveUp = true;
    expect(g.status(2)).toBe('unhealthy');
  });

  it('keeps the last error with what Python said', () => {
    const h = new PoolHealthState(1);
    h.recordError(new WorkerError('no start', 'worker_start_failed', { workerId: 'w-1', stderr: 'line 1\nline 2' }));
    expect(h.lastError).toMatchObject({ code: 'worker_start_failed', stderr: 'line 1\nline 2' });
    expect(h.lastError).not.toHaveProperty('pythonTraceback');
    h.recordCrash('w-2', { reason: 'heartbeat', classification: 'unknown', signal: 'SIGKILL', exitCode: null });
    expect(h.crashes).toBe(1);
    expect(h.lastError).toMatchObject({ code: 'worker_hung', workerId: 'w-2', crash: { reason: 'heartbeat' } });
  });

  it('reports a status change once', () => {
    const h = new PoolHealthState(1);
    expect(h.changed(1)).toBeUndefined();
    expect(h.changed(0)).toMatchObject({ status: 'degraded', workers: 0, size: 1 });
    expect(h.changed(0)).toBeUndefined();
  });

  it('fails fast only when unhealthy with no live worker', () => {
    const h = new PoolHealthState(2);
    expect(h.failFast(false)).toBe(false);
    h.gaveUp = true;
    expect(h.failFast(true)).toBe(false);
    expect(h.failFast(false)).toBe(true);
    expect(h.unhealthyError('p')).toMatchObject({ code: 'pool_unhealthy', category: 'pool', details: { pool: 'p' } });
  });
});

describe('combineHealth', () => {
  it('takes the worst status, sums counts, keeps the latest error', () => {
    const a = new PoolHealthState(2);
    a.recordCrash('a-1', { reason: 'signal', classification: 'segfault', signal: 'SIGSEGV', exitCode: null });
    a.lastError!.at = 1;
    const b = new PoolHealthState(1);
    b.gaveUp = true;
    b.recordError(new WorkerError('import', 'adapter_import', { pythonTraceback: 'Traceback ...' }));
    const all = combineHealth({ a: a.snapshot(2), b: b.snapshot(0) });
    expect(all).toMatchObject({ status: 'unhealthy', crashes: 1, workers: 2, size: 3, lastError: { code: 'adapter_import', pythonTraceback: 'Traceback ...' } });
    expect(Object.keys(all.pools)).toEqual(['a', 'b']);
  });
});

describe('sumStats', () => {
  it('adds numbers and recycles by reason', () => {
    const one: PoolStats = {
      requests: 1, queued: 2, errors: 3, queueTimeouts: 4, poolSaturated: 5, workers: 6, available: 7, busy: 8, recycled: 3, retries: 1,
      streamsHeld: 1, streamHolds: 2,
      lifecycle: { ttl: 1, max_requests: 1, memory: 1, manual: 0 },
    };
    expect(sumStats([one, one])).toEqual({
      requests: 2, queued: 4, errors: 6, queueTimeouts: 8, poolSaturated: 10, workers: 12, available: 14, busy: 16, recycled: 6, retries: 2,
      streamsHeld: 2, streamHolds: 4,
      lifecycle: { ttl: 2, max_requests: 2, memory: 2, manual: 0 },
    });
    expect(sumStats([])).toMatchObject({ requests: 0, lifecycle: { ttl: 0 } });
  });
});

describe('Replacements', () => {
  function setup(spawn: (slot: number) => Promise<unknown>) {
    const failed = vi.fn<(error: Error, gaveUp: boolean) => void>();
    const started = vi.fn();
    const r = new Replacements({ spawn: vi.fn(spawn), active: () => true, started, failed });
    return { r, failed, started };
  }

  it('starts a replacement for a vacated slot at once', async () => {
    vi.useFakeTimers();
    const spawned: number[] = [];
    const { r, started } = setup(async (slot) => spawned.push(slot));
    r.vacate(3);
    await vi.advanceTimersByTimeAsync(0);
    expect(spawned).toEqual([3]);
    expect(started).toHaveBeenCalledTimes(1);
    expect(r.vacant).toBe(0);
  });

  it('backs off after failures and gives up after five in a row', async () => {
    vi.useFakeTimers();
    const { r, failed } = setup(() => Promise.reject(new WorkerError('exit', 'worker_start_failed')));
    r.vacate(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(failed).toHaveBeenCalledTimes(MAX_CONSECUTIVE_RESTART_FAILURES);
    expect(failed.mock.calls.map(([, gaveUp]) => gaveUp)).toEqual([false, false, false, false, true]);
    expect(r.vacant).toBe(1);
  });

  // No retry storm against a worker that refuses our token or certificates: only the config can fix it.
  it.each(['adapter_import', 'unauthenticated', 'tls_failed', 'insecure_transport'] as const)('gives up at once on %s', async (code) => {
    vi.useFakeTimers();
    const { r, failed } = setup(() => Promise.reject(new WorkerError('no', code)));
    r.vacate(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(failed).toHaveBeenCalledTimes(1);
    expect(failed).toHaveBeenCalledWith(expect.objectContaining({ code }), true);
  });

  it('clear drops pending restarts', async () => {
    vi.useFakeTimers();
    const spawn = vi.fn(async () => undefined);
    const r = new Replacements({ spawn, active: () => true, failed: vi.fn() });
    r.vacate(0);
    r.clear();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(spawn).not.toHaveBeenCalled();
  });
});
