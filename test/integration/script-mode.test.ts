// Script mode (`Snakepit.runAsScript`): bounded start, always a bounded stop, halt with the outcome.
import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Snakepit, TimeoutError } from '../../src/index.js';
import { liveProcessIds } from '../../src/process/live-processes.js';
import { FIXTURES, processAlive, TRANSPORT } from '../helpers/pool.js';

const quiet = { logSink: () => {} };
const pool = (extra: Record<string, unknown> = {}) => ({ pools: [{ name: 'default', poolSize: 1, transport: TRANSPORT, pythonPath: [FIXTURES], ...extra }] });

describe('runAsScript timeoutMs: the pool start', () => {
  it('rejects with startup_timeout when the pools are not up in time, never runs fn, and leaves no worker', async () => {
    let called = false;
    // The second worker waits for a batch delay far beyond the start timeout.
    const run = Snakepit.runAsScript(
      () => {
        called = true;
      },
      { config: pool({ poolSize: 2, startupBatchSize: 1, startupBatchDelayMs: 30_000 }), timeoutMs: 300, ...quiet },
    );
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'startup_timeout' });
    expect(called).toBe(false);
    // A worker SIGKILLed in its handshake may still be tracked until its exit is collected.
    expect(liveProcessIds().filter(processAlive)).toEqual([]);
  });
});

describe('runAsScript scriptTimeoutMs: the function itself', () => {
  it('rejects with call_timeout (scope script) and stops the workers', async () => {
    let pids: number[] = [];
    const run = Snakepit.runAsScript(
      async (sp) => {
        pids = sp.listWorkers().map((w) => w.pid!);
        await new Promise(() => {});
      },
      { config: pool(), scriptTimeoutMs: 200, ...quiet },
    );
    await expect(run).rejects.toMatchObject({ code: 'call_timeout', details: { scope: 'script' } });
    expect(pids).toHaveLength(1);
    expect(pids.filter(processAlive)).toEqual([]);
  });
});

describe('runAsScript shutdownTimeoutMs / cleanupTimeoutMs', () => {
  it('give up a stop that waits too long and SIGKILL the worker: the script goes on', async () => {
    let pid = 0;
    // The pool would give the worker 60 s after SIGTERM; script mode waits 200 ms, then 200 ms more.
    const result = await Snakepit.runAsScript(
      async (sp) => {
        pid = sp.listWorkers()[0]!.pid!;
        await sp.execute('ignore_sigterm');
        return 'done';
      },
      { config: pool({ adapter: 'hang_adapter.HangAdapter', gracefulShutdownTimeoutMs: 60_000 }), shutdownTimeoutMs: 200, cleanupTimeoutMs: 200, ...quiet },
    );
    expect(result).toBe('done');
    expect(processAlive(pid)).toBe(false);
  });
});

describe('runAsScript halt', () => {
  const script = path.resolve('test/fixtures/scripts/script-halt.mjs');
  const run = (env: Record<string, string>) => execa(process.execPath, [script], { env: { SNAKEPIT_TEST_TRANSPORT: TRANSPORT, ...env }, reject: false, timeout: 60_000 });

  it.each([
    ['option', 'ok', 0],
    ['option', 'throw', 1],
    ['env', 'ok', 0],
    ['env', 'throw', 1],
    ['none', 'throw', 7],
  ])('halt via %s, function %s: exit code %i', async (via, mode, code) => {
    const r = await run({ HALT_VIA: via, HALT_MODE: mode });
    expect(r.exitCode).toBe(code);
  });
});
