// The FIFO queue: queue timeout, max size, order, and the counters in stats().
import { afterEach, describe, expect, it } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { startPool, TRANSPORT } from '../helpers/pool.js';

describe('queue', () => {
  let sp: Snakepit | undefined;
  afterEach(async () => {
    await sp?.stop();
    sp = undefined;
  });

  /** Occupies the single worker until the returned controller aborts. */
  const occupy = (instance: Snakepit) => {
    const controller = new AbortController();
    const running = instance.execute('sleep', { ms: 30_000 }, { signal: controller.signal }).catch((e: unknown) => e);
    return { controller, running };
  };

  it('fails a call that waits longer than poolQueueTimeoutMs with queue_timeout', async () => {
    ({ sp } = await startPool({ poolQueueTimeoutMs: 200 }));
    const busy = occupy(sp);
    await expect(sp.execute('ping')).rejects.toMatchObject({ code: 'queue_timeout', category: 'timeout' });
    expect(sp.stats()).toMatchObject({ queueTimeouts: 1, queued: 0 });
    busy.controller.abort();
    await busy.running;
  });

  it('rejects with pool_saturated once poolMaxQueueSize calls wait', async () => {
    ({ sp } = await startPool({ poolMaxQueueSize: 2 }));
    const busy = occupy(sp);
    const queued = [sp.execute('ping'), sp.execute('ping')];
    expect(sp.stats().queued).toBe(2);
    await expect(sp.execute('ping')).rejects.toMatchObject({ code: 'pool_saturated', category: 'pool' });
    expect(sp.stats()).toMatchObject({ poolSaturated: 1, queued: 2 });
    busy.controller.abort();
    await busy.running;
    // The queued calls were not lost: they run once the worker is free.
    await expect(Promise.all(queued)).resolves.toHaveLength(2);
    expect(sp.stats().queued).toBe(0);
  });

  it('runs queued calls in arrival order', async () => {
    // Over gRPC, calls sent ahead into a worker are separate RPCs whose answers may come back in another
    // order (guides/worker-profiles.md): there the order holds with pipelineDepth 0.
    ({ sp } = await startPool(TRANSPORT === 'grpc' ? { pipelineDepth: 0 } : {}));
    const busy = occupy(sp);
    const order: number[] = [];
    const calls = [0, 1, 2, 3].map((i) => sp!.execute('echo', { message: i }).then(() => order.push(i)));
    busy.controller.abort();
    await busy.running;
    await Promise.all(calls);
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('counts requests, busy and available workers', async () => {
    ({ sp } = await startPool({ poolSize: 2 }));
    await sp.execute('ping');
    const busy = occupy(sp);
    expect(sp.stats()).toMatchObject({ workers: 2, busy: 1, available: 1 });
    busy.controller.abort();
    await busy.running;
    expect(sp.stats('default').requests).toBe(2);
    expect(sp.listWorkers()).toHaveLength(2);
    expect(sp.listWorkers()[0]).toMatchObject({ pool: 'default', capacity: 1 });
  });
});
