// The crash barrier and pool health: retries after a crash (idempotent or always, with backoff), tainted slots (markOn),
// removed slots, a pool's own barrier over the top level's, pools that cannot restart.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PoolError, WorkerError, type PoolHealth, type Snakepit } from '../../src/index.js';
import type { CrashInfo, WorkerInfo } from '../../src/index.js';
import { startPool, waitForFullPool } from '../helpers/pool.js';
import { recordTelemetry, type TelemetryRecorder } from '../helpers/telemetry.js';

const BARRIER = { crashBarrier: { enabled: true, maxRestarts: 5, windowSeconds: 60, taintMs: 60_000 } };

/** The worker running a call right after it was sent (calls are placed synchronously). */
function busyWorker(sp: Snakepit) {
  const busy = sp.listWorkers().filter((w) => w.inflight > 0);
  expect(busy).toHaveLength(1);
  return busy[0]!;
}

/** Signals a worker from outside (SIGKILL unless told) and resolves once the pool has seen it exit. */
async function killWorker(sp: Snakepit, pid: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const exited = once(sp.pool(), 'worker:exit');
  process.kill(pid, signal);
  await exited;
}

/** Resolves with the pool's health once its status is `status`. */
async function healthBecomes(sp: Snakepit, status: PoolHealth['status'], timeoutMs = 30_000): Promise<PoolHealth> {
  const signal = AbortSignal.timeout(timeoutMs);
  while (sp.health('default').status !== status) await once(sp.pool(), 'health', { signal });
  return sp.health('default');
}

describe('crash barrier and pool health', () => {
  let sp: Snakepit | undefined;
  let dir: string | undefined;
  let recorder: TelemetryRecorder | undefined;
  afterEach(async () => {
    recorder?.stop();
    recorder = undefined;
    await sp?.stop();
    sp = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('an idempotent call whose worker is killed succeeds on another worker; a plain one fails with the crash', async () => {
    ({ sp } = await startPool({ poolSize: 2 }, BARRIER));
    const call = sp.execute<{ pid: number }>('sleep', { ms: 300 }, { idempotent: true });
    const first = busyWorker(sp);
    process.kill(first.pid!, 'SIGKILL');
    const result = await call;
    expect(result.pid).not.toBe(first.pid);
    expect(sp.stats()).toMatchObject({ retries: 1, errors: 0 });
    await waitForFullPool(sp, 2);

    const plain = sp.execute('sleep', { ms: 30_000 });
    const second = busyWorker(sp);
    process.kill(second.pid!, 'SIGKILL');
    await expect(plain).rejects.toMatchObject({ code: 'worker_crashed', details: { crash: { signal: 'SIGKILL' } } });
  });

  it('a segfault taints the slot (markOn): its replacement is avoided while an untainted worker serves; worker.tainted tells', async () => {
    recorder = recordTelemetry(['snakepit.worker.tainted']);
    ({ sp } = await startPool({ poolSize: 2 }, BARRIER));
    const [victim, survivor] = sp.listWorkers();
    const tainted = once(sp.pool(), 'worker:tainted') as Promise<[WorkerInfo, CrashInfo, number]>;
    await killWorker(sp, victim!.pid!, 'SIGSEGV');
    const [info, crash, durationMs] = await tainted;
    expect([info.id, crash.classification, durationMs]).toEqual([victim!.id, 'segfault', 60_000]);
    expect(recorder.seen).toEqual([
      { event: 'snakepit.worker.tainted', measurements: { durationMs: 60_000 }, metadata: { pool: 'default', workerId: victim!.id, reason: 'signal', classification: 'segfault', exitCode: null, signal: 'SIGSEGV' } },
    ]);
    await waitForFullPool(sp, 2);
    for (let i = 0; i < 4; i++) expect((await sp.execute<{ pid: number }>('get_worker_info')).pid).toBe(survivor!.pid);
  });

  it('taints only the crash kinds markOn names: an exit does not by default; markOn exit_code does; CUDA last words are a gpu crash', async () => {
    ({ sp } = await startPool({ poolSize: 2, adapter: 'crash_adapter.CrashAdapter' }, BARRIER));
    const taints: CrashInfo[] = [];
    sp.pool().on('worker:tainted', (_info, crash) => taints.push(crash));
    const crashOf = async (tool: string, args: Record<string, unknown>) => {
      const crashed = once(sp!.pool(), 'worker:crash') as Promise<[WorkerInfo, CrashInfo]>;
      await expect(sp!.execute(tool, args)).rejects.toMatchObject({ code: 'worker_crashed' });
      return (await crashed)[1];
    };
    // worker:tainted would come right after worker:crash, in the same turn.
    expect(await crashOf('crash', { code: 3 })).toMatchObject({ reason: 'exit_code', classification: 'unknown', exitCode: 3 });
    expect(taints).toEqual([]);
    await waitForFullPool(sp, 2);
    const gpu = await crashOf('crash_saying', { message: 'RuntimeError: CUDA error: an illegal memory access was encountered', code: 1 });
    expect(gpu).toMatchObject({ reason: 'exit_code', classification: 'gpu', device: 'cuda' });
    expect(taints).toEqual([gpu]);
    await sp.stop();

    ({ sp } = await startPool({ poolSize: 2, adapter: 'crash_adapter.CrashAdapter', crashBarrier: { markOn: ['exit_code'] } }, BARRIER));
    const tainted = once(sp.pool(), 'worker:tainted') as Promise<[WorkerInfo, CrashInfo]>;
    await expect(sp.execute('crash', { code: 3 })).rejects.toMatchObject({ code: 'worker_crashed' });
    expect((await tainted)[1]).toMatchObject({ reason: 'exit_code', exitCode: 3 });
  });

  it("a pool's crashBarrier goes over the top level's field by field: retry 'always' with the top level's backoff", async () => {
    recorder = recordTelemetry(['snakepit.retry.attempt']);
    const top = { crashBarrier: { enabled: true, retry: 'never', taintMs: 0, retryBackoff: { initialMs: 150, maxMs: 1_000 } } };
    ({ sp } = await startPool({ poolSize: 2, crashBarrier: { retry: 'always', retryBackoff: { multiplier: 3 } } }, top));
    expect(sp.config.pools[0]!.crashBarrier).toMatchObject({ enabled: true, retry: 'always', taintMs: 0, retryBackoff: { initialMs: 150, multiplier: 3, maxMs: 1_000 } });
    // Not marked idempotent: 'always' retries it anyway, after the backoff.
    const call = sp.execute<{ pid: number }>('sleep', { ms: 300 });
    const first = busyWorker(sp);
    process.kill(first.pid!, 'SIGKILL');
    expect((await call).pid).not.toBe(first.pid);
    expect(sp.stats()).toMatchObject({ retries: 1, errors: 0 });
    expect(recorder.seen).toMatchObject([{ measurements: { attempt: 1, delayMs: 150 }, metadata: { pool: 'default', operation: 'sleep' } }]);
  });

  it('removes a slot that crashes more than maxRestarts times within the window', async () => {
    ({ sp } = await startPool({ poolSize: 2 }, { crashBarrier: { enabled: true, maxRestarts: 1, windowSeconds: 60 } }));
    const [victim, survivor] = sp.listWorkers();
    await killWorker(sp, victim!.pid!);
    await waitForFullPool(sp, 2);
    const replacement = sp.listWorkers().find((w) => w.id !== survivor!.id)!;
    const removed = once(sp.pool(), 'worker:removed');
    process.kill(replacement.pid!, 'SIGKILL');
    const [info] = (await removed) as [{ id: string }];
    expect(info.id).toBe(replacement.id);
    expect(sp.health('default')).toMatchObject({ status: 'degraded', removedSlots: 1, crashes: 2, workers: 1, size: 2 });
    await sp.awaitReady('default', 1_000);
    expect(sp.listWorkers().map((w) => w.id)).toEqual([survivor!.id]);
    await expect(sp.execute('get_worker_info')).resolves.toMatchObject({ pid: survivor!.pid });
  });

  it('a worker that can no longer import its adapter makes the pool unhealthy; calls then fail fast', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'snakepit-flaky-'));
    const flag = path.join(dir, 'flag');
    ({ sp } = await startPool({ poolSize: 1, adapter: 'flaky_start_adapter.FlakyStartAdapter', adapterEnv: { SNAKEPIT_TEST_FLAKY_FLAG: flag } }));
    writeFileSync(flag, 'import');
    await killWorker(sp, sp.listWorkers()[0]!.pid!);
    const health = await healthBecomes(sp, 'unhealthy');
    expect(health).toMatchObject({ workers: 0, crashes: 1, restarts: 0, lastError: { code: 'adapter_import' } });
    expect(health.lastError!.pythonTraceback).toMatch(/ImportError/);
    const t0 = performance.now();
    const error = await sp.execute('pid').catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(PoolError);
    expect(error).toMatchObject({ code: 'pool_unhealthy', details: { lastError: { code: 'adapter_import' } } });
  });

  it('a start-up failure loop gives up after repeated tries, keeps the last stderr and fails the waiting calls', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'snakepit-flaky-'));
    const flag = path.join(dir, 'flag');
    ({ sp } = await startPool({ poolSize: 1, adapter: 'flaky_start_adapter.FlakyStartAdapter', adapterEnv: { SNAKEPIT_TEST_FLAKY_FLAG: flag }, poolQueueTimeoutMs: 60_000 }));
    writeFileSync(flag, 'exit');
    const failures: unknown[] = [];
    sp.pool().on('worker:restart-failed', (e) => failures.push(e));
    await killWorker(sp, sp.listWorkers()[0]!.pid!);
    const waiting = sp.execute('pid').catch((e: unknown) => e);
    const health = await healthBecomes(sp, 'unhealthy');
    expect(failures).toHaveLength(5);
    expect(health.lastError).toMatchObject({ code: 'worker_start_failed' });
    expect(health.lastError!.stderr).toMatch(/cannot start, flag file present/);
    expect(await waiting).toMatchObject({ code: 'pool_unhealthy', details: { lastError: { code: 'worker_start_failed' } } });
  });
});
