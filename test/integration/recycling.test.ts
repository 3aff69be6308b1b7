// Worker recycling: memory, TTL, max requests and manual; a recycle never fails a call.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecycleReason, Snakepit, WorkerInfo } from '../../src/index.js';
import { processAlive, startPool } from '../helpers/pool.js';

const ADAPTER = 'recycle_adapter.RecycleAdapter';

/** Calls `work` back to back on `parallel` lanes until `stop()`; counts successes and keeps failures. */
function keepCalling(sp: Snakepit, parallel = 2) {
  let running = true;
  const failures: unknown[] = [];
  let ok = 0;
  const lanes = Array.from({ length: parallel }, async () => {
    while (running) {
      try {
        await sp.execute('work', { ms: 5 });
        ok++;
      } catch (error) {
        failures.push(error);
      }
    }
  });
  return {
    get ok() {
      return ok;
    },
    failures,
    async stop() {
      running = false;
      await Promise.all(lanes);
    },
  };
}

/** Resolves with the first `count` recycle events of `reason` (fails after `timeoutMs`). */
async function recycles(sp: Snakepit, reason: RecycleReason, count: number, timeoutMs = 30_000): Promise<WorkerInfo[]> {
  const seen: WorkerInfo[] = [];
  const signal = AbortSignal.timeout(timeoutMs);
  while (seen.length < count) {
    const [info, why] = (await once(sp.pool(), 'worker:recycled', { signal })) as [WorkerInfo, RecycleReason];
    if (why === reason) seen.push(info);
  }
  return seen;
}

describe('worker recycling', () => {
  let sp: Snakepit | undefined;
  afterEach(async () => {
    await sp?.stop();
    sp = undefined;
  });

  it('recycles a worker over its memory threshold while calls keep flowing, failing none', async () => {
    ({ sp } = await startPool({ poolSize: 2, adapter: ADAPTER, memoryThresholdMb: 120, lifecycleCheckIntervalMs: 100, poolQueueTimeoutMs: 30_000 }));
    const recycled = recycles(sp, 'memory', 1);
    const load = keepCalling(sp);
    const { pid } = await sp.execute<{ pid: number }>('hold_memory', { mb: 150 });
    const [info] = await recycled;
    await load.stop();
    expect(info!.pid).toBe(pid);
    expect(load.failures).toEqual([]);
    expect(load.ok).toBeGreaterThan(0);
    expect(processAlive(pid)).toBe(false);
    expect(sp.listWorkers().map((w) => w.pid)).not.toContain(pid);
    expect(sp.stats()).toMatchObject({ errors: 0, recycled: 1, lifecycle: { memory: 1, ttl: 0, max_requests: 0, manual: 0 } });
    expect(sp.health('default').status).toBe('healthy');
  });

  it('recycles workers past their TTL while calls keep flowing, failing none', async () => {
    ({ sp } = await startPool({ poolSize: 2, adapter: ADAPTER, workerTtl: { value: 1, unit: 'seconds' }, lifecycleCheckIntervalMs: 100, poolQueueTimeoutMs: 30_000 }));
    const originals = sp.listWorkers().map((w) => w.id);
    const load = keepCalling(sp);
    const done = await recycles(sp, 'ttl', 2);
    await load.stop();
    expect(done.map((w) => w.id).sort()).toEqual(originals.sort());
    expect(load.failures).toEqual([]);
    expect(load.ok).toBeGreaterThan(0);
    expect(sp.stats().lifecycle.ttl).toBeGreaterThanOrEqual(2);
  });

  it('recycles a worker after workerMaxRequests calls: 20 calls, all succeed, 5 per worker', async () => {
    ({ sp } = await startPool({ poolSize: 1, adapter: ADAPTER, workerMaxRequests: 5, lifecycleCheckIntervalMs: 100, poolQueueTimeoutMs: 30_000 }));
    const recycled = recycles(sp, 'max_requests', 4);
    const pids: number[] = [];
    for (let i = 0; i < 20; i++) pids.push(await sp.execute<number>('pid'));
    const done = await recycled;
    expect(done).toHaveLength(4);
    const perWorker = new Map<number, number>();
    for (const pid of pids) perWorker.set(pid, (perWorker.get(pid) ?? 0) + 1);
    expect([...perWorker.values()]).toEqual([5, 5, 5, 5]);
    expect(sp.stats()).toMatchObject({ errors: 0, lifecycle: { max_requests: 4 } });
  });

  it('recycleWorker: the running call finishes, queued and session calls move to the replacement', async () => {
    ({ sp } = await startPool({ poolSize: 1, adapter: ADAPTER, affinity: 'strict_queue', poolQueueTimeoutMs: 30_000 }));
    const session = sp.session('s-1');
    const oldPid = await session.execute<number>('pid');
    const [old] = sp.listWorkers();
    const event = once(sp.pool(), 'worker:recycled');
    const running = sp.execute<number>('work', { ms: 300 });
    const recycled = sp.recycleWorker('default', old!.id);
    expect(sp.listWorkers()[0]!.state).toBe('draining');
    const queued = sp.execute<number>('pid');
    const sessionCall = session.execute<number>('pid');
    expect(await running).toBe(oldPid);
    await recycled;
    const [info, reason] = (await event) as [WorkerInfo, RecycleReason];
    expect(info.id).toBe(old!.id);
    expect(reason).toBe('manual');
    const [fresh] = sp.listWorkers();
    expect(fresh!.id).not.toBe(old!.id);
    expect(await queued).toBe(fresh!.pid);
    expect(await sessionCall).toBe(fresh!.pid);
    expect(processAlive(oldPid)).toBe(false);
    expect(sp.stats()).toMatchObject({ errors: 0, recycled: 1, lifecycle: { manual: 1 } });
  });

  it('recycleWorker of a worker already draining for maxRequests waits for that recycle and resolves with its outcome', async () => {
    ({ sp } = await startPool({ poolSize: 1, adapter: ADAPTER, workerMaxRequests: 2, lifecycleCheckIntervalMs: 60_000 }));
    const [old] = sp.listWorkers();
    const events: string[] = [];
    sp.pool().on('worker:recycled', (info, reason) => events.push(`${info.id} ${reason}`));
    await sp.execute('pid');
    const oldPid = await sp.execute<number>('pid'); // the 2nd call: its end starts the max_requests recycle
    expect(sp.listWorkers().find((w) => w.id === old!.id)?.state).toBe('draining');
    const outcome = await sp.recycleWorker('default', old!.id);
    const [fresh] = sp.listWorkers();
    expect(outcome).toEqual({ workerId: old!.id, replacementId: fresh!.id, reason: 'max_requests' });
    // One recycle, not two: the manual request joined the one in progress.
    expect(events).toEqual([`${old!.id} max_requests`]);
    expect(sp.stats()).toMatchObject({ errors: 0, recycled: 1, lifecycle: { max_requests: 1, manual: 0 } });
    expect(processAlive(oldPid)).toBe(false);
    // Once it is gone, its id is unknown.
    await expect(sp.recycleWorker('default', old!.id)).rejects.toMatchObject({ code: 'unknown_worker' });
    // A recycle of its own reports `manual`.
    expect(await sp.recycleWorker('default', fresh!.id)).toMatchObject({ workerId: fresh!.id, reason: 'manual' });
  });

  it('recycleWorker of an unknown worker rejects with the known ids', async () => {
    ({ sp } = await startPool({ poolSize: 1, adapter: ADAPTER }));
    const ids = sp.listWorkers().map((w) => w.id);
    await expect(sp.recycleWorker('default', 'nope')).rejects.toMatchObject({ code: 'unknown_worker', category: 'validation', details: { workers: ids } });
    await expect(sp.recycleWorker('nope', ids[0]!)).rejects.toMatchObject({ code: 'unknown_pool' });
  });
});
