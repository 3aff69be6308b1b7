// Resizing a running pool: growing starts workers in start-up batches; shrinking and removing drain the workers let go (their calls finish, new ones go elsewhere); one worker more or less; bad sizes are refused.
import { on, once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PoolError, ValidationError, type Snakepit, type WorkerInfo } from '../../src/index.js';
import { startPool } from '../helpers/pool.js';
import { recordTelemetry } from '../helpers/telemetry.js';

const live = (sp: Snakepit) => sp.listWorkers().filter((w) => w.state === 'ready' || w.state === 'busy');

describe('resizing a running pool', () => {
  let sp: Snakepit;
  beforeEach(async () => {
    ({ sp } = await startPool({ poolSize: 2, adapter: 'slow_adapter.SlowAdapter', startupBatchSize: 2, startupBatchDelayMs: 0 }));
  });
  afterEach(() => sp?.stop());

  it('grows in start-up batches: the new workers are ready when resize resolves, and the pool is healthy at its new size', async () => {
    const before = sp.listWorkers().map((w) => w.id);
    const ready: string[] = [];
    sp.pool().on('worker:ready', (w) => ready.push(w.id));
    const spawns = recordTelemetry(['snakepit.pool.worker.spawn_started', 'snakepit.pool.worker.spawned']);
    const outcome = await sp.resize('default', 5);
    spawns.stop();
    // startupBatchSize 2: two start together, the third once both are ready.
    expect(spawns.seen.map((e) => e.event.split('.').pop())).toEqual(['spawn_started', 'spawn_started', 'spawned', 'spawned', 'spawn_started', 'spawned']);
    expect(outcome).toMatchObject({ pool: 'default', from: 2, to: 5, removed: [] });
    expect(outcome.added).toHaveLength(3);
    expect([...ready].sort()).toEqual([...outcome.added].sort());
    expect(live(sp).map((w) => w.id).sort()).toEqual([...before, ...outcome.added].sort());
    expect(sp.health('default')).toMatchObject({ status: 'healthy', workers: 5, size: 5 });
    await sp.awaitReady('default', 1_000);
    const pids = new Set(await Promise.all(live(sp).map((w) => sp.execute('pid', {}, { workerId: w.id }))));
    expect(pids.size).toBe(5);
  });

  it('shrinks without losing a call: busy workers let go finish their calls, new calls go to the one kept', async () => {
    await sp.resize('default', 3);
    const workers = live(sp);
    const running = workers.map((w) => sp.execute<{ pid: number }>('slow', { ms: 1_500 }, { workerId: w.id }));
    const exits: WorkerInfo[] = [];
    sp.pool().on('worker:exit', (w) => exits.push(w));
    const drainEvents = on(sp.pool(), 'worker:draining', { signal: AbortSignal.timeout(10_000) });
    const shrinking = sp.resize('default', 1);
    // Those let go drain first: they take no new call.
    const draining: WorkerInfo[] = [];
    for await (const [info, reason] of drainEvents) {
      expect(reason).toBe('removed');
      if (draining.push(info as WorkerInfo) === 2) break;
    }
    expect(sp.listWorkers().filter((w) => w.state === 'draining').map((w) => w.id).sort()).toEqual(draining.map((w) => w.id).sort());
    const kept = workers.find((w) => !draining.some((d) => d.id === w.id))!;
    const meanwhile = sp.execute('pid');
    expect(sp.stats()).toMatchObject({ queued: 1 });
    const results = await Promise.all(running);
    expect(results.map((r) => r.pid)).toEqual(workers.map((w) => w.pid));
    await expect(meanwhile).resolves.toBe(kept.pid);
    const outcome = await shrinking;
    expect(outcome).toMatchObject({ from: 3, to: 1, added: [] });
    expect([...outcome.removed].sort()).toEqual(draining.map((w) => w.id).sort());
    expect(exits.map((w) => w.id).sort()).toEqual([...outcome.removed].sort());
    expect(sp.listWorkers().map((w) => w.id)).toEqual([kept.id]);
    expect(sp.health('default')).toMatchObject({ status: 'healthy', workers: 1, size: 1, crashes: 0, restarts: 0 });
    expect(sp.stats()).toMatchObject({ errors: 0 });
  });

  it('shrinking lets idle workers go before busy ones (the newest first among equals)', async () => {
    const { added } = await sp.resize('default', 3);
    const busy = added[0]!; // the newest slot: among idle equals it would go first
    const call = sp.execute('slow', { ms: 1_500 }, { workerId: busy });
    const outcome = await sp.resize('default', 1);
    expect(outcome.removed).toHaveLength(2);
    expect(outcome.removed).not.toContain(busy);
    expect(sp.listWorkers().map((w) => w.id)).toEqual([busy]);
    await expect(call).resolves.toMatchObject({ slept_ms: 1_500 });
  });

  it('addWorker starts one more; removeWorker lets a chosen one go after its call', async () => {
    const added = await sp.pool().addWorker();
    expect(added.state).toBe('ready');
    expect(live(sp).map((w) => w.id)).toContain(added.id);
    expect(sp.health('default').size).toBe(3);
    const call = sp.execute<{ pid: number }>('slow', { ms: 400 }, { workerId: added.id });
    const removed = await sp.pool().removeWorker(added.id);
    expect(removed.id).toBe(added.id);
    await expect(call).resolves.toMatchObject({ pid: added.pid });
    expect(sp.listWorkers().map((w) => w.id)).not.toContain(added.id);
    expect(sp.health('default')).toMatchObject({ status: 'healthy', size: 2, crashes: 0 });
  });

  it('refuses bad sizes, unknown workers and the last worker with typed errors', async () => {
    for (const size of [0, -1, 1.5, Number.NaN]) {
      await expect(sp.resize('default', size)).rejects.toMatchObject({ code: 'invalid_argument', category: 'validation', details: { pool: 'default' } });
    }
    await expect(sp.resize('nope', 2)).rejects.toMatchObject({ code: 'unknown_pool' });
    const ids = sp.listWorkers().map((w) => w.id);
    const unknown = await sp.pool().removeWorker('nope').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ValidationError);
    expect(unknown).toMatchObject({ code: 'unknown_worker', details: { workers: ids } });
    await sp.pool().removeWorker(ids[0]!);
    await expect(sp.pool().removeWorker(ids[1]!)).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('a worker let go that crashes while it drains is not restarted', async () => {
    const [victim] = live(sp);
    const call = sp.execute('slow', { ms: 30_000 }, { workerId: victim!.id }).catch((e: unknown) => e);
    const removing = sp.pool().removeWorker(victim!.id);
    const crashed = once(sp.pool(), 'worker:crash');
    process.kill(victim!.pid!, 'SIGKILL');
    await crashed;
    expect(await call).toMatchObject({ code: 'worker_crashed' });
    await removing;
    expect(sp.health('default')).toMatchObject({ status: 'healthy', size: 1, workers: 1, restarts: 0 });
    expect(sp.listWorkers()).toHaveLength(1);
  });

  it('a stopped pool refuses to resize', async () => {
    await sp.stop();
    await expect(sp.resize('default', 3)).rejects.toBeInstanceOf(PoolError);
    await expect(sp.resize('default', 3)).rejects.toMatchObject({ code: 'pool_stopped' });
  });
});
