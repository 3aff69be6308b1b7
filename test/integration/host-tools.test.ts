// Python calls Node: host tools, their isolation per session, session state on the host, TTL
// expiry with cleanup_session, re-entrancy. Runs once per transport (vitest projects).
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PythonError, SnakepitError, type Snakepit } from '../../src/index.js';
import { startPool, waitForFullPool } from '../helpers/pool.js';

const HOST_ADAPTER = 'host_adapter.HostAdapter';

describe('host tools called from Python', () => {
  let sp: Snakepit | undefined;
  afterEach(async () => {
    await sp?.stop();
    sp = undefined;
  });

  it("runs the guide's validate-then-process workflow with full values both ways", async () => {
    ({ sp } = await startPool({ adapter: 'snakepit_bridge.adapters.showcase.ShowcaseAdapter' }));
    const stored: unknown[] = [];
    const s = sp
      .session('wf-1')
      .registerTool('validate_schema', ({ data }) => (Array.isArray(data) && data.every((x) => typeof x === 'number') ? { valid: true } : { valid: false, errors: ['not all numbers'] }), {
        exposedToPython: true,
        parameters: [{ name: 'data', type: 'any', required: true }],
      })
      .registerTool(
        'store_result',
        ({ result }, context) => {
          stored.push({ result, sessionId: context.sessionId });
          return { id: stored.length };
        },
        { exposedToPython: true, parameters: z.object({ result: z.record(z.string(), z.unknown()) }) },
      );
    await expect(s.execute('process_with_validation', { data: [1, 2, 3] })).resolves.toEqual({
      success: true,
      result: { kind: 'list', count: 3, sum: 6, mean: 2 },
      stored: { id: 1 },
    });
    expect(stored).toEqual([{ result: { kind: 'list', count: 3, sum: 6, mean: 2 }, sessionId: 'wf-1' }]);
    await expect(s.execute('process_with_validation', { data: [1, 'x'] })).resolves.toEqual({ error: 'validation failed', details: ['not all numbers'] });
    expect(stored).toHaveLength(1);
  });

  it('passes full values (binary, nested maps, big integers) to the host tool and back', async () => {
    ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
    sp.registerTool('echo_back', (args) => ({ got: args }), { exposedToPython: true });
    const args = { blob: Buffer.from([0, 1, 255]), nested: { list: [1, 2.5, null, true], text: 'ü' }, big: 2n ** 60n };
    const result = await sp.execute<{ got: typeof args }>('call_host', { name: 'echo_back', args });
    expect(result.got).toEqual(args);
  });

  it('works from async tools and from threads the tool starts', async () => {
    ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
    sp.registerTool('add', ({ a, b }) => (a as number) + (b as number), { exposedToPython: true });
    await expect(sp.execute('call_host_async', { name: 'add', args: { a: 2, b: 3 } })).resolves.toBe(5);
    await expect(sp.execute('call_host_from_thread', { name: 'add', args: { a: 4, b: 5 } })).resolves.toBe(9);
  });

  it('lets adapters written for the original use call_elixir_tool and elixir_tools', async () => {
    ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
    sp.registerTool('validate', ({ data }) => ({ valid: typeof data === 'object' }), { exposedToPython: true });
    await expect(sp.execute('elixir_style', { data: { a: 1 } })).resolves.toEqual({ tool: 'validate', result: { valid: true } });
    await expect(sp.execute('elixir_style', { data: {}, op: 'absent' })).resolves.toMatchObject({ missing: true, available: ['validate'] });
  });

  describe('errors both ways', () => {
    it('raises a host tool failure in Python with its code; the call fails with it', async () => {
      ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
      sp.registerTool('explode', () => {
        throw new TypeError('host side broke');
      }, { exposedToPython: true });
      sp.registerTool('typed', () => {
        throw new SnakepitError('nope', { code: 'invalid_argument', category: 'validation', details: { field: 'x' } });
      }, { exposedToPython: true });
      const plain = await sp.execute('call_host', { name: 'explode' }).catch((e: unknown) => e);
      expect(plain).toBeInstanceOf(PythonError);
      expect(plain).toMatchObject({ exceptionType: 'HostToolError', details: { code: 'host_tool_error' } });
      const typed = await sp.execute('call_host', { name: 'typed' }).catch((e: unknown) => e);
      expect(typed).toMatchObject({ exceptionType: 'HostToolError', details: { code: 'invalid_argument', field: 'x' } });
    });

    it('checks the arguments against the parameter list before the tool runs', async () => {
      ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
      let ran = false;
      sp.registerTool('strict', () => (ran = true), { exposedToPython: true, parameters: [{ name: 'n', type: 'integer', required: true }] });
      const error = await sp.execute('call_host', { name: 'strict', args: { n: 'seven' } }).catch((e: unknown) => e);
      expect(error).toMatchObject({ details: { code: 'invalid_host_tool_args' } });
      expect(ran).toBe(false);
    });

    it('times out a host tool that does not answer', async () => {
      ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
      sp.registerTool('never', () => new Promise(() => {}), { exposedToPython: true });
      const error = await sp.execute('call_host', { name: 'never', timeout_ms: 100 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ details: { code: 'host_tool_timeout' } });
    });
  });

  describe('unknown tools both ways', () => {
    it('fails an unknown Python tool before dispatch, listing the available ones', async () => {
      ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
      const error = await sp.execute('no_such_tool').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'unknown_tool', category: 'validation' });
      expect((error as SnakepitError).details.available).toContain('call_host');
      expect(sp.stats().requests).toBe(0);
      expect(sp.describeTool(undefined, 'call_host')).toMatchObject({ name: 'call_host', parameters: [{ name: 'name', required: true }, { name: 'args' }, { name: 'timeout_ms' }] });
      expect(sp.listTools().map((t) => t.name)).toContain('state_get');
    });

    it('raises an unknown host tool in Python with the visible tools (only exposed ones)', async () => {
      ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
      sp.registerTool('visible', () => 1, { exposedToPython: true });
      sp.registerTool('internal', () => 2);
      const error = await sp.execute('call_host', { name: 'internal' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ details: { code: 'unknown_host_tool', available: ['visible'] } });
    });
  });

  it('keeps sessions apart: a worker sees only its own session tools and the global ones', async () => {
    ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
    sp.registerTool('shared', () => 'global', { exposedToPython: true });
    const a = sp.session('iso-a').registerTool('secret', () => 'a', { exposedToPython: true });
    const b = sp.session('iso-b').registerTool('secret', () => 'b', { exposedToPython: true }).registerTool('only_b', () => 'b!', { exposedToPython: true });
    await expect(a.execute('call_host', { name: 'secret' })).resolves.toBe('a');
    await expect(b.execute('call_host', { name: 'secret' })).resolves.toBe('b');
    await expect(a.execute('list_host_tools')).resolves.toEqual(['secret', 'shared']);
    await expect(b.execute('list_host_tools')).resolves.toEqual(['only_b', 'secret', 'shared']);
    await expect(a.execute('call_host', { name: 'only_b' })).rejects.toMatchObject({ details: { code: 'unknown_host_tool' } });
    // Outside any session only global tools exist.
    await expect(sp.execute('list_host_tools')).resolves.toEqual(['shared']);
  });

  it('keeps session state on the host, readable from both sides; no state without a session', async () => {
    ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
    const s = sp.session('state-1');
    s.state.set('from_node', { n: 1 });
    await s.execute('state_set', { key: 'from_python', value: [1, 2] });
    expect(s.state.get('from_python')).toEqual([1, 2]);
    await expect(s.execute('state_all')).resolves.toEqual({ from_node: { n: 1 }, from_python: [1, 2] });
    await s.execute('state_delete', { key: 'from_node' });
    expect(s.state.has('from_node')).toBe(false);
    await expect(sp.execute('state_get', { key: 'x' })).rejects.toMatchObject({ details: { code: 'no_session' } });
  });

  it("restores a session's state on the worker that replaces a crashed one", async () => {
    ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
    const s = sp.session('survivor');
    await s.execute('state_set', { key: 'progress', value: 42 });
    await expect(s.execute('restored')).resolves.toBeNull();
    const pid = await s.execute<number>('pid');
    const exited = once(sp.pool(), 'worker:exit');
    process.kill(pid, 'SIGKILL');
    await exited;
    await waitForFullPool(sp, 1);
    s.release();
    await expect(s.execute('restored')).resolves.toEqual({ progress: 42 });
    await expect(s.execute('state_get', { key: 'progress' })).resolves.toBe(42);
    expect(await s.execute<number>('pid')).not.toBe(pid);
  });

  it('fails a call whose on_session_restore raises, and restores again on the next call', async () => {
    ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
    const s = sp.session('fragile');
    s.state.set('fail_restore', true);
    await expect(s.execute('pid')).rejects.toMatchObject({ code: 'session_restore_failed' });
    s.state.delete('fail_restore');
    s.state.set('x', 1);
    await expect(s.execute('restored')).resolves.toEqual({ x: 1 });
  });

  it('expires an idle session: its tools and state go and cleanup_session runs on its worker', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-expiry-'));
    const log = path.join(dir, 'cleaned.log');
    try {
      ({ sp } = await startPool({ adapter: HOST_ADAPTER, adapterEnv: { HOST_ADAPTER_CLEANUP_LOG: log } }, { sessionCleanupIntervalMs: 20 }));
      // Listen first: under load the session may expire as soon as the call returns.
      const ended = once(sp.sessions, 'session:ended', { signal: AbortSignal.timeout(20_000) });
      const s = sp.session('short-lived', { ttlMs: 300 }).registerTool('mine', () => 1, { exposedToPython: true });
      await s.execute('state_set', { key: 'k', value: 1 });
      const [record, reason] = (await ended) as [{ id: string }, string];
      expect(record.id).toBe('short-lived');
      expect(reason).toBe('expired');
      expect(sp.sessions.has('short-lived')).toBe(false);
      expect(sp.hostTools('short-lived').map((t) => t.name)).not.toContain('mine');
      // stop() waits for sessions still ending (their cleanup_session hooks) before it stops the workers.
      await sp.stop();
      expect(readFileSync(log, 'utf8').split('\n').filter(Boolean)).toEqual(['short-lived']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs cleanup_session when a session is ended explicitly', async () => {
    ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
    const s = sp.session('ended');
    await s.execute('pid');
    await s.end();
    await expect(sp.execute('cleaned')).resolves.toEqual(['ended']);
  });

  describe('re-entrancy: a host tool that calls execute on the same pool', () => {
    it('fails clearly on a pool of one instead of deadlocking', async () => {
      ({ sp } = await startPool({ adapter: HOST_ADAPTER }));
      const inner = sp;
      sp.registerTool('reenter', () => inner.execute('pid'), { exposedToPython: true });
      const error = await sp.execute('call_host', { name: 'reenter' }, { timeoutMs: 20_000 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ details: { code: 'reentrant_deadlock' } });
      await expect(sp.execute('pid')).resolves.toBeGreaterThan(0);
    });

    it('routes the inner call to another worker when there is one', async () => {
      ({ sp } = await startPool({ adapter: HOST_ADAPTER, poolSize: 2 }));
      await waitForFullPool(sp, 2);
      const inner = sp;
      sp.registerTool('reenter', async (_args, context) => ({ innerPid: await inner.execute('pid'), outerWorkerId: context.workerId }), { exposedToPython: true });
      const { innerPid, outerWorkerId } = await sp.execute<{ innerPid: number; outerWorkerId: string }>('call_host', { name: 'reenter' });
      const pidOf = new Map(sp.listWorkers().map((w) => [w.id, w.pid]));
      expect([...pidOf.values()]).toContain(innerPid);
      expect(innerPid).not.toBe(pidOf.get(outerWorkerId));
    });
  });
});
