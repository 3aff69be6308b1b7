// AbortSignal and per-call timeouts: queued calls leave the queue; running calls are cancelled in
// Python; a call that ignores cancellation gets its worker killed and replaced.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, type Snakepit } from '../../src/index.js';
import { startPool, waitForFullPool } from '../helpers/pool.js';

describe('abort and timeout', () => {
  let sp: Snakepit | undefined;
  afterEach(async () => {
    await sp?.stop();
    sp = undefined;
  });

  it('rejects at once when the signal is already aborted', async () => {
    ({ sp } = await startPool());
    await expect(sp.execute('ping', {}, { signal: AbortSignal.abort('no') })).rejects.toBeInstanceOf(AbortError);
    expect(sp.stats().requests).toBe(0);
  });

  it('removes an aborted call from the queue', async () => {
    ({ sp } = await startPool());
    const blocker = new AbortController();
    const running = sp.execute('sleep', { ms: 30_000 }, { signal: blocker.signal }).catch((e: unknown) => e);
    const controller = new AbortController();
    const queued = sp.execute('ping', {}, { signal: controller.signal });
    expect(sp.stats().queued).toBe(1);
    controller.abort(new Error('changed my mind'));
    await expect(queued).rejects.toMatchObject({ code: 'aborted', details: { stage: 'queued' } });
    expect(sp.stats().queued).toBe(0);
    blocker.abort();
    await running;
  });

  it.each([
    ['a sync tool polling session_context.cancelled', 'sleep'],
    ['an async tool (task cancelled)', 'async_sleep'],
  ])('cancels %s in Python and keeps the worker', async (_label, tool) => {
    ({ sp } = await startPool());
    const [before] = sp.listWorkers();
    const controller = new AbortController();
    const call = sp.execute(tool, { ms: 30_000 }, { signal: controller.signal });
    await waitUntilBusy(sp);
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'aborted', details: { stage: 'running' } });
    // Python lets go of the call: the same worker takes the next one.
    await expect(sp.execute('ping')).resolves.toMatchObject({ status: 'ok' });
    expect(sp.listWorkers()[0]?.pid).toBe(before?.pid);
  });

  it('stops a generator at its next yield when the consumer leaves the loop', async () => {
    ({ sp } = await startPool());
    const [before] = sp.listWorkers();
    const seen: unknown[] = [];
    for await (const chunk of sp.stream('stream_progress', { steps: 1000, delay_ms: 10 })) {
      seen.push(chunk);
      if (seen.length === 2) break;
    }
    expect(seen).toHaveLength(2);
    await expect(sp.execute('ping')).resolves.toMatchObject({ status: 'ok' });
    expect(sp.listWorkers()[0]?.pid).toBe(before?.pid);
  });

  it('fails a call past its timeoutMs with call_timeout', async () => {
    ({ sp } = await startPool());
    await expect(sp.execute('sleep', { ms: 30_000 }, { timeoutMs: 150 })).rejects.toMatchObject({ code: 'call_timeout', category: 'timeout' });
    await expect(sp.execute('ping')).resolves.toMatchObject({ status: 'ok' });
  });

  it('kills and replaces a worker whose call ignores cancellation past the grace period', async () => {
    ({ sp } = await startPool({ adapter: 'hang_adapter.HangAdapter', cancelGraceMs: 300 }));
    const [before] = sp.listWorkers();
    const exited = once(sp.pool(), 'worker:exit');
    await expect(sp.execute('hang', {}, { timeoutMs: 150 })).rejects.toMatchObject({ code: 'call_timeout' });
    const [info, exit] = (await exited) as [{ pid: number }, { reason?: string; expected: boolean }];
    expect(info.pid).toBe(before?.pid);
    expect(exit.reason).toMatch(/cancel/);
    await waitForFullPool(sp, 1);
    const [after] = sp.listWorkers();
    expect(after?.pid).not.toBe(before?.pid);
    await expect(sp.execute('pid')).resolves.toBe(after?.pid);
  });
});

/** Resolves once the single worker reports a call in flight (the call reached Python's side of the pipe). */
async function waitUntilBusy(sp: Snakepit): Promise<void> {
  // The call is marked in flight synchronously on dispatch, so this holds right after execute().
  expect(sp.stats().busy).toBe(1);
}
