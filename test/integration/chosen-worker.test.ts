// Running a call on a chosen worker (`workerId`): execute, stream and executeStream go there (waiting for it when busy); a worker that is not a live worker of that pool fails the call with unknown_worker listing the pool's workers.
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Snakepit, ValidationError } from '../../src/index.js';
import { FIXTURES, TRANSPORT } from '../helpers/pool.js';

describe('a call on a chosen worker', () => {
  let sp: Snakepit;
  beforeEach(async () => {
    const pool = { poolSize: 2, transport: TRANSPORT, pythonPath: [FIXTURES], adapter: 'slow_adapter.SlowAdapter' };
    sp = await Snakepit.start({ pools: [{ name: 'default', ...pool }, { name: 'other', ...pool, poolSize: 1 }] }, { logSink: () => {} });
  });
  afterEach(() => sp?.stop());

  it('execute runs on the chosen worker every time, whatever the load balancing would pick', async () => {
    for (const worker of sp.listWorkers('default')) {
      const pids = await Promise.all([1, 2, 3].map(() => sp.execute('pid', {}, { workerId: worker.id })));
      expect(pids).toEqual([worker.pid, worker.pid, worker.pid]);
    }
  });

  it('a busy chosen worker: the call waits for it while the other worker is idle', async () => {
    const [first, second] = sp.listWorkers('default');
    const long = sp.execute<{ pid: number }>('slow', { ms: 500 }, { workerId: first!.id });
    const waiting = sp.execute('pid', {}, { workerId: first!.id });
    expect(sp.stats('default')).toMatchObject({ queued: 1, busy: 1 });
    await expect(sp.execute('pid')).resolves.toBe(second!.pid);
    await expect(waiting).resolves.toBe(first!.pid);
    await expect(long).resolves.toMatchObject({ pid: first!.pid });
  });

  it('stream and executeStream run on the chosen worker (its own state shows it)', async () => {
    const [, second] = sp.listWorkers('default');
    const chunks: unknown[] = [];
    for await (const chunk of sp.stream('slow_stream', { count: 3, delay_ms: 1 }, { workerId: second!.id })) chunks.push(chunk);
    expect(chunks).toHaveLength(3);
    await expect(sp.execute('progress', {}, { workerId: second!.id })).resolves.toEqual({ produced: 3, closed: true });
    let seen = 0;
    await sp.executeStream('slow_stream', { count: 2, delay_ms: 1 }, () => seen++, { workerId: second!.id });
    expect(seen).toBe(2);
    await expect(sp.execute('progress', {}, { workerId: second!.id })).resolves.toEqual({ produced: 2, closed: true });
  });

  it('unknown_worker for an id the pool does not have, or a worker of another pool, listing the workers', async () => {
    const ids = sp.listWorkers('default').map((w) => w.id);
    const otherId = sp.listWorkers('other')[0]!.id;
    for (const workerId of ['nope', otherId]) {
      const error = await sp.execute('pid', {}, { workerId }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'unknown_worker', details: { pool: 'default', workerId, workers: ids } });
    }
    await expect(sp.execute('pid', {}, { pool: 'other', workerId: otherId })).resolves.toBe(sp.listWorkers('other')[0]!.pid);
    const stream = sp.stream('slow_stream', {}, { workerId: 'nope' });
    await expect(stream.next()).rejects.toMatchObject({ code: 'unknown_worker' });
  });

  it('a chosen worker that dies: its running call fails with the crash, calls queued for it and later calls with unknown_worker', async () => {
    const [first, second] = sp.listWorkers('default');
    const running = sp.execute('slow', { ms: 30_000 }, { workerId: first!.id }).catch((e: unknown) => e);
    const queued = sp.execute('pid', {}, { workerId: first!.id }).catch((e: unknown) => e);
    const exited = once(sp.pool('default'), 'worker:exit');
    process.kill(first!.pid!, 'SIGKILL');
    await exited;
    expect(await running).toMatchObject({ code: 'worker_crashed' });
    expect(await queued).toMatchObject({ code: 'unknown_worker', details: { workerId: first!.id } });
    const late = await sp.execute('pid', {}, { workerId: first!.id }).catch((e: unknown) => e);
    expect(late).toMatchObject({ code: 'unknown_worker', details: { workerId: first!.id } });
    expect((late as ValidationError).details.workers).toContain(second!.id);
    expect((late as ValidationError).details.workers).not.toContain(first!.id);
  });
});
