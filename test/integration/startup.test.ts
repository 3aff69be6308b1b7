// Start-up: an adapter that cannot be imported fails start() fast, with the traceback, leaving nothing running.
import { describe, expect, it } from 'vitest';
import { Snakepit, WorkerError } from '../../src/index.js';
import { liveProcessIds } from '../../src/process/live-processes.js';
import { FIXTURES, TRANSPORT } from '../helpers/pool.js';

const start = (pool: Record<string, unknown>) =>
  Snakepit.start({ pools: [{ name: 'default', poolSize: 2, transport: TRANSPORT, pythonPath: [FIXTURES], ...pool }] }, { logSink: () => {} });

describe('start-up failures', () => {
  it.each([
    ['a module that raises at import', 'broken_import_adapter.Anything'],
    ['a module that does not exist', 'no_such_module.Adapter'],
    ['a class that does not exist', 'echo_adapter.NoSuchClass'],
    ['a constructor that raises', 'lifecycle_adapter.FailingCtorAdapter'],
  ])('rejects with adapter_import for %s', async (_label, adapter) => {
    const error = (await start({ adapter }).catch((e: unknown) => e)) as WorkerError;
    expect(error).toBeInstanceOf(WorkerError);
    expect(error.code).toBe('adapter_import');
    expect(String(error.details.pythonTraceback)).toContain('Traceback');
    expect(liveProcessIds()).toEqual([]);
  });

  it('rejects when initialize() raises', async () => {
    const error = await start({ adapter: 'lifecycle_adapter.FailingInitAdapter' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ category: 'worker' });
    expect(liveProcessIds()).toEqual([]);
  });

  it('rejects with worker_start_failed when the interpreter cannot run', async () => {
    const error = await start({ pythonExecutable: '/nonexistent/python' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'worker_start_failed', category: 'worker' });
  });

  it('runs initialize() before the first call', async () => {
    const sp = await start({ adapter: 'lifecycle_adapter.LifecycleAdapter', poolSize: 1 });
    try {
      await expect(sp.execute('status')).resolves.toMatchObject({ initialized: true });
    } finally {
      await sp.stop();
    }
  });

  it('starts workers in batches and is ready at full size', async () => {
    const sp = await start({ poolSize: 3, startupBatchSize: 2, startupBatchDelayMs: 0 });
    try {
      await sp.awaitReady('default', 1_000);
      expect(sp.listWorkers().map((w) => w.id).sort()).toEqual(['default-1', 'default-2', 'default-3']);
      expect(new Set(sp.listWorkers().map((w) => w.pid)).size).toBe(3);
    } finally {
      await sp.stop();
    }
  });
});
