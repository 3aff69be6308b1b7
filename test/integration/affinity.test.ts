// Session affinity: prefer (default), strict_queue and strict_fail_fast.
import { afterEach, describe, expect, it } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { startPool } from '../helpers/pool.js';

describe('session affinity', () => {
  let sp: Snakepit | undefined;
  afterEach(async () => {
    await sp?.stop();
    sp = undefined;
  });

  it('keeps session state on one worker (prefer)', async () => {
    ({ sp } = await startPool({ poolSize: 2 }));
    const s = sp.session('user-42');
    const first = await s.execute<{ pid: number }>('remember', { key: 'k', value: 1 });
    for (let i = 0; i < 5; i++) {
      // Other traffic in between must not move the session.
      await Promise.all([sp.execute('ping'), sp.execute('ping')]);
      const r = await s.execute<{ value: unknown; pid: number }>('recall', { key: 'k' });
      expect(r).toMatchObject({ value: 1, pid: first.pid });
    }
    expect(s.workerId).toBeDefined();
  });

  it('falls back to another worker when the preferred one is busy (prefer)', async () => {
    ({ sp } = await startPool({ poolSize: 2 }));
    const s = sp.session('s');
    const { pid } = await s.execute<{ pid: number }>('get_worker_info');
    const controller = new AbortController();
    const blocking = s.execute('sleep', { ms: 30_000 }, { signal: controller.signal }).catch((e: unknown) => e);
    const other = await s.execute<{ pid: number }>('get_worker_info');
    expect(other.pid).not.toBe(pid);
    controller.abort();
    await blocking;
  });

  it('waits for the bound worker even when another is idle (strict_queue)', async () => {
    ({ sp } = await startPool({ poolSize: 2, affinity: 'strict_queue' }));
    const s = sp.session('s');
    const { pid } = await s.execute<{ pid: number }>('get_worker_info');
    const controller = new AbortController();
    const blocking = s.execute('sleep', { ms: 30_000 }, { signal: controller.signal }).catch((e: unknown) => e);
    const waiting = s.execute<{ pid: number }>('get_worker_info');
    expect(sp.stats()).toMatchObject({ queued: 1, available: 1 });
    controller.abort();
    await blocking;
    expect((await waiting).pid).toBe(pid);
  });

  it('fails at once when the bound worker is busy (strict_fail_fast)', async () => {
    ({ sp } = await startPool({ poolSize: 2, affinity: 'strict_fail_fast' }));
    const s = sp.session('s');
    await s.execute('get_worker_info');
    const controller = new AbortController();
    const blocking = s.execute('sleep', { ms: 30_000 }, { signal: controller.signal }).catch((e: unknown) => e);
    await expect(s.execute('ping')).rejects.toMatchObject({ code: 'session_worker_busy', category: 'pool' });
    controller.abort();
    await blocking;
    // The aborted call holds the worker until Python lets go of it.
    await sp.pool().onIdle();
    await expect(s.execute('ping')).resolves.toMatchObject({ status: 'ok' });
  });

  it('fails calls waiting for a bound worker that dies, and rebinds afterwards (strict_queue)', async () => {
    ({ sp } = await startPool({ poolSize: 2, affinity: 'strict_queue' }));
    const s = sp.session('s');
    const { pid } = await s.execute<{ pid: number }>('get_worker_info');
    const blocking = s.execute('sleep', { ms: 30_000 });
    const waiting = s.execute('ping');
    expect(sp.stats().queued).toBe(1);
    process.kill(pid, 'SIGKILL');
    await expect(blocking).rejects.toMatchObject({ code: 'worker_crashed' });
    await expect(waiting).rejects.toMatchObject({ code: 'session_worker_unavailable' });
    // The binding to the dead worker is reported once, then the session starts afresh.
    await expect(s.execute('ping')).rejects.toMatchObject({ code: 'session_worker_unavailable' });
    await expect(s.execute('ping')).resolves.toMatchObject({ status: 'ok' });
  });
});
