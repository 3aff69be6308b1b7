// Start-up: an adapter that cannot be imported fails start() fast, with the traceback, leaving nothing running.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PackageError, Snakepit, WorkerError } from '../../src/index.js';
import { liveProcessIds } from '../../src/process/live-processes.js';
import { FIXTURES, TRANSPORT } from '../helpers/pool.js';
import { recordTelemetry, type TelemetryRecorder } from '../helpers/telemetry.js';

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

  it('rejects with worker_start_failed when the interpreter exists but cannot run a worker', async () => {
    const error = await start({ pythonExecutable: '/bin/false' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'worker_start_failed', category: 'worker' });
  });
});

describe('a missing interpreter', () => {
  let rec: TelemetryRecorder | undefined;
  const saved = process.env.SNAKEPIT_PYTHON;
  afterEach(() => {
    rec?.stop();
    if (saved === undefined) delete process.env.SNAKEPIT_PYTHON;
    else process.env.SNAKEPIT_PYTHON = saved;
  });

  it.each([
    ['a pythonExecutable path', () => start({ pythonExecutable: '/nonexistent/python' }), '/nonexistent/python', 'pythonExecutable'],
    ['a relative pythonExecutable, from the working directory', () => start({ pythonExecutable: 'no-venv/bin/python' }), path.resolve('no-venv/bin/python'), 'pythonExecutable'],
    ['a bare name not on PATH', () => start({ pythonExecutable: 'python-snakepit-nope' }), 'python-snakepit-nope (not on PATH)', 'pythonExecutable'],
    [
      'SNAKEPIT_PYTHON (it wins over the config)',
      () => {
        process.env.SNAKEPIT_PYTHON = '/nonexistent/env-python';
        return start({});
      },
      '/nonexistent/env-python',
      'SNAKEPIT_PYTHON',
    ],
  ])('%s: python_not_found at start(), naming the path and the fix, spawning nothing', async (_label, begin, tried, source) => {
    rec = recordTelemetry(['snakepit.pool.worker.spawn_started']);
    const error = (await begin().catch((e: unknown) => e)) as PackageError;
    expect(error).toBeInstanceOf(PackageError);
    expect(error).toMatchObject({ code: 'python_not_found', category: 'validation', details: { path: tried, source } });
    expect(error.message).toContain(tried);
    expect(error.fix).toContain('snakepit setup');
    expect(error.fix).toContain('SNAKEPIT_PYTHON');
    expect(rec.seen).toEqual([]);
    expect(liveProcessIds()).toEqual([]);
  });
});

describe('start-up', () => {
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
