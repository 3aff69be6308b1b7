// print() noise never corrupts the protocol; it lands in the log with the worker id. stop() leaves no process.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveProcessIds } from '../../src/process/live-processes.js';
import { processAlive, startPool } from '../helpers/pool.js';

describe('Python output is logs, never protocol', () => {
  it('returns correct results from an adapter that prints junk, and logs the junk per worker', async () => {
    const { sp, logs } = await startPool({ adapter: 'noisy_adapter.NoisyAdapter' });
    try {
      for (let i = 0; i < 20; i++) {
        await expect(sp.execute('echo', { value: i })).resolves.toMatchObject({ value: i });
      }
      const [worker] = sp.listWorkers();
      const fromWorker = logs.filter((r) => r.context.workerId === worker?.id);
      expect(fromWorker.some((r) => r.context.stream === 'stdout')).toBe(true);
      expect(fromWorker.some((r) => r.context.stream === 'stderr')).toBe(true);
    } finally {
      await sp.stop();
    }
  });
});

describe('stop()', () => {
  it('lets a call already running finish before the workers stop; queued and new calls fail with pool_stopped', async () => {
    const { sp } = await startPool({ poolSize: 1 });
    const running = sp.execute('sleep', { ms: 400 });
    const queued = sp.execute('ping');
    const stopping = sp.stop();
    await expect(sp.execute('ping')).rejects.toMatchObject({ code: 'pool_stopped' });
    await expect(queued).rejects.toMatchObject({ code: 'pool_stopped' });
    await expect(running).resolves.toBeDefined();
    await stopping;
  });

  it('leaves no Python process behind, also for a worker that ignores SIGTERM', async () => {
    const { sp } = await startPool({ poolSize: 3, adapter: 'hang_adapter.HangAdapter', gracefulShutdownTimeoutMs: 500 });
    const pids = sp.listWorkers().map((w) => w.pid!);
    expect(pids).toHaveLength(3);
    await sp.execute('ignore_sigterm');
    void sp.execute('hang').catch(() => {});
    await sp.stop();
    expect(pids.filter(processAlive)).toEqual([]);
    expect(liveProcessIds()).toEqual([]);
    await expect(sp.execute('pid')).rejects.toMatchObject({ code: 'pool_stopped' });
  });
});

describe('adapter lifecycle on stop', () => {
  it('runs cleanup() in every worker when the pool stops', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-marker-'));
    const marker = path.join(dir, 'marker');
    try {
      const { sp } = await startPool({ poolSize: 2, adapter: 'lifecycle_adapter.LifecycleAdapter', adapterEnv: { SNAKEPIT_TEST_MARKER: marker } });
      await sp.stop();
      const lines = readFileSync(marker, 'utf8').trim().split('\n').sort();
      expect(lines).toEqual(['cleanup', 'cleanup', 'initialize', 'initialize']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
