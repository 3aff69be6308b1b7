import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostToolContext } from '../../../src/host-tools/host-tool.js';
import { ToolRegistry } from '../../../src/host-tools/tool-registry.js';
import { PoolError, SnakepitError, TimeoutError, ValidationError } from '../../../src/errors.js';
import { thrown } from '../../helpers/thrown.js';

const noop = () => undefined;
const names = (tools: { name: string }[]) => tools.map((t) => t.name);

const rejection = (promise: Promise<unknown>): Promise<SnakepitError> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as SnakepitError,
  );

describe('ToolRegistry registration', () => {
  it('registers global and session tools and returns them', () => {
    const reg = new ToolRegistry();
    const global = reg.register('a', noop);
    const own = reg.register('a', noop, { exposedToPython: true }, 's1');
    expect(global.sessionId).toBeUndefined();
    expect(own).toMatchObject({ name: 'a', sessionId: 's1', exposedToPython: true });
    expect(reg.get('a')).toBe(global);
    expect(reg.get('a', 's1')).toBe(own);
  });

  it.each([
    ['global', undefined],
    ['session', 's1'],
  ])('rejects a duplicate name in the same %s scope', (_scope, sessionId) => {
    const reg = new ToolRegistry();
    reg.register('a', noop, {}, sessionId);
    const error = thrown(() => reg.register('a', noop, {}, sessionId));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.code).toBe('duplicate_tool');
    expect(error.details).toStrictEqual({ tool: 'a', sessionId });
  });

  it('passes invalid definitions on as invalid_argument', () => {
    const error = thrown(() => new ToolRegistry().register('', noop));
    expect(error.code).toBe('invalid_argument');
    expect(error.details.field).toBe('name');
  });

  it('unregisters from one scope only', () => {
    const reg = new ToolRegistry();
    reg.register('a', noop);
    reg.register('a', noop, {}, 's1');
    expect(reg.unregister('a', 's1')).toBe(true);
    expect(reg.unregister('a', 's1')).toBe(false);
    expect(reg.get('a', 's1')?.sessionId).toBeUndefined(); // the global one again
    expect(reg.unregister('a')).toBe(true);
    expect(reg.unregister('a')).toBe(false);
    expect(reg.get('a', 's1')).toBeUndefined();
    expect(reg.unregister('missing', 'nope')).toBe(false);
  });

  it('lets a name be registered again after unregistering', () => {
    const reg = new ToolRegistry();
    reg.register('a', noop);
    reg.unregister('a');
    expect(() => reg.register('a', noop)).not.toThrow();
  });
});

describe('ToolRegistry visibility', () => {
  const setup = () => {
    const reg = new ToolRegistry();
    reg.register('zeta', noop, { exposedToPython: true });
    reg.register('alpha', noop);
    reg.register('shared', noop, { exposedToPython: true, description: 'global' });
    reg.register('mine', noop, { exposedToPython: true }, 's1');
    reg.register('shared', noop, { description: 'own' }, 's1');
    reg.register('other', noop, { exposedToPython: true }, 's2');
    return reg;
  };

  it("lists a session's own and the global tools, sorted, own shadowing global", () => {
    const reg = setup();
    expect(names(reg.list())).toEqual(['alpha', 'shared', 'zeta']);
    expect(names(reg.list('s1'))).toEqual(['alpha', 'mine', 'shared', 'zeta']);
    expect(reg.list('s1').find((t) => t.name === 'shared')?.description).toBe('own');
    expect(names(reg.list('s2'))).toEqual(['alpha', 'other', 'shared', 'zeta']);
    expect(names(reg.list('unknown'))).toEqual(['alpha', 'shared', 'zeta']);
  });

  it('lists only exposed tools for Python', () => {
    const reg = setup();
    expect(names(reg.listExposed())).toEqual(['shared', 'zeta']);
    // s1's own `shared` is not exposed and hides the exposed global one.
    expect(names(reg.listExposed('s1'))).toEqual(['mine', 'zeta']);
  });

  it('never shows a session another session\'s tools', () => {
    const reg = setup();
    expect(reg.get('mine', 's2')).toBeUndefined();
    expect(reg.get('mine')).toBeUndefined();
  });

  it('resolves exposed tools for Python', () => {
    const reg = setup();
    expect(reg.resolveForPython('zeta').name).toBe('zeta');
    expect(reg.resolveForPython('mine', 's1').sessionId).toBe('s1');
  });

  it.each([
    ['a missing tool', 'nope', undefined, ['shared', 'zeta']],
    ['an unexposed tool', 'alpha', undefined, ['shared', 'zeta']],
    ["another session's tool", 'mine', 's2', ['other', 'shared', 'zeta']],
    ['a tool shadowed by an unexposed own one', 'shared', 's1', ['mine', 'zeta']],
  ])('treats %s as unknown for Python', (_what, name, sessionId, available) => {
    const error = thrown(() => setup().resolveForPython(name, sessionId));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.code).toBe('unknown_host_tool');
    expect(error.details).toStrictEqual({ tool: name, available, sessionId });
  });

  it("drops a session's own tools on cleanup and counts them", () => {
    const reg = setup();
    expect(reg.cleanupSession('s1')).toBe(2);
    expect(reg.cleanupSession('s1')).toBe(0);
    expect(names(reg.list('s1'))).toEqual(['alpha', 'shared', 'zeta']);
    expect(names(reg.list('s2'))).toContain('other');
    expect(() => reg.register('mine', noop, {}, 's1')).not.toThrow();
  });
});

describe('ToolRegistry.invokeForPython', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the tool with validated arguments and the call context', async () => {
    const reg = new ToolRegistry();
    let seen: HostToolContext | undefined;
    reg.register(
      'add',
      (args: { a: number; b: number }, ctx) => {
        seen = ctx;
        return args.a + args.b;
      },
      { exposedToPython: true, parameters: [{ name: 'a', type: 'int', required: true }, { name: 'b', type: 'int', default: 10 }] },
      's1',
    );
    await expect(reg.invokeForPython('add', { a: 1 }, { sessionId: 's1', workerId: 'w1', pool: 'p', timeoutMs: 1_000 })).resolves.toBe(11);
    expect(seen).toMatchObject({ toolName: 'add', sessionId: 's1', workerId: 'w1', pool: 'p' });
    expect(seen?.signal.aborted).toBe(false);
  });

  it('rejects (never throws) for an unknown tool', async () => {
    const reg = new ToolRegistry();
    reg.register('hidden', noop);
    const promise = reg.invokeForPython('hidden', {}, { timeoutMs: 1_000 });
    const error = await rejection(promise);
    expect(error.code).toBe('unknown_host_tool');
    expect(error.details).toMatchObject({ tool: 'hidden', available: [] });
  });

  it('rejects bad arguments with invalid_host_tool_args, without running the tool', async () => {
    const reg = new ToolRegistry();
    const fn = vi.fn();
    reg.register('t', fn, { exposedToPython: true, parameters: [{ name: 'n', type: 'int', required: true }] });
    const error = await rejection(reg.invokeForPython('t', { n: 'x' }, { timeoutMs: 1_000 }));
    expect(error.code).toBe('invalid_host_tool_args');
    expect(error.details).toMatchObject({ tool: 't', issues: [{ path: 'n' }] });
    expect(fn).not.toHaveBeenCalled();
  });

  it('times out a tool that never finishes, aborting its signal', async () => {
    const reg = new ToolRegistry();
    let signal: AbortSignal | undefined;
    reg.register('hang', (_args, ctx) => {
      signal = ctx.signal;
      return new Promise(() => {});
    }, { exposedToPython: true });
    const error = await rejection(reg.invokeForPython('hang', {}, { timeoutMs: 20 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.code).toBe('host_tool_timeout');
    expect(error.details).toStrictEqual({ tool: 'hang', timeoutMs: 20 });
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(error);
  });

  it("prefers the tool's own timeout over the caller's", async () => {
    vi.useFakeTimers();
    const reg = new ToolRegistry();
    reg.register('hang', () => new Promise(() => {}), { exposedToPython: true, timeoutMs: 50 });
    const promise = rejection(reg.invokeForPython('hang', {}, { timeoutMs: 60_000 }));
    await vi.advanceTimersByTimeAsync(50);
    const error = await promise;
    expect(error.code).toBe('host_tool_timeout');
    expect(error.details.timeoutMs).toBe(50);
  });

  it('leaves no timer behind when the tool settles', async () => {
    vi.useFakeTimers();
    const reg = new ToolRegistry();
    reg.register('ok', () => 'fine', { exposedToPython: true });
    reg.register('bad', () => Promise.reject(new Error('no')), { exposedToPython: true });
    await expect(reg.invokeForPython('ok', {}, { timeoutMs: 60_000 })).resolves.toBe('fine');
    await rejection(reg.invokeForPython('bad', {}, { timeoutMs: 60_000 }));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sets no timer for an unlimited timeout', async () => {
    vi.useFakeTimers();
    const reg = new ToolRegistry();
    let resolve: (v: string) => void = noop;
    reg.register('slow', () => new Promise<string>((r) => (resolve = r)), { exposedToPython: true });
    const promise = reg.invokeForPython('slow', {}, { timeoutMs: Infinity });
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
    resolve('late');
    await expect(promise).resolves.toBe('late');
  });

  it.each([0, -1, NaN])('rejects a timeoutMs of %s with invalid_argument', async (timeoutMs) => {
    const reg = new ToolRegistry();
    reg.register('t', noop, { exposedToPython: true });
    const error = await rejection(reg.invokeForPython('t', {}, { timeoutMs }));
    expect(error.code).toBe('invalid_argument');
    expect(error.details.field).toBe('timeoutMs');
  });

  it("passes a tool's SnakepitError through unchanged", async () => {
    const reg = new ToolRegistry();
    const own = new PoolError('busy', 'pool_saturated', { pool: 'p' });
    reg.register('t', () => {
      throw own;
    }, { exposedToPython: true });
    await expect(reg.invokeForPython('t', {}, { timeoutMs: 1_000 })).rejects.toBe(own);
  });

  it.each([
    ['a synchronous throw', () => {
      throw new RangeError('out of range');
    }, 'RangeError'],
    ['a rejection', () => Promise.reject(new TypeError('bad type')), 'TypeError'],
  ])('wraps %s of another error as host_tool_error, keeping it as cause', async (_what, fn, errorName) => {
    const reg = new ToolRegistry();
    reg.register('t', fn, { exposedToPython: true });
    const error = await rejection(reg.invokeForPython('t', {}, { timeoutMs: 1_000 }));
    expect(error).toBeInstanceOf(SnakepitError);
    expect(error).toMatchObject({ code: 'host_tool_error', category: 'pool' });
    expect(error.details).toStrictEqual({ tool: 't', errorName });
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).name).toBe(errorName);
  });

  it('wraps a thrown non-error value', async () => {
    const reg = new ToolRegistry();
    reg.register('t', () => Promise.reject('just a string'), { exposedToPython: true });
    const error = await rejection(reg.invokeForPython('t', {}, { timeoutMs: 1_000 }));
    expect(error.code).toBe('host_tool_error');
    expect(error.details).toStrictEqual({ tool: 't', errorName: 'string' });
    expect(error.cause).toBe('just a string');
  });

  it("aborts the tool when the caller's signal fires", async () => {
    const reg = new ToolRegistry();
    let signal: AbortSignal | undefined;
    reg.register('hang', (_args, ctx) => {
      signal = ctx.signal;
      return new Promise(() => {});
    }, { exposedToPython: true });
    const caller = new AbortController();
    const promise = reg.invokeForPython('hang', {}, { timeoutMs: 60_000, signal: caller.signal });
    const reason = new Error('cancelled');
    caller.abort(reason);
    await expect(promise).rejects.toBe(reason);
    expect(signal?.reason).toBe(reason);
  });

  it('does not run the tool when the caller has already aborted', async () => {
    const reg = new ToolRegistry();
    const fn = vi.fn();
    reg.register('t', fn, { exposedToPython: true });
    const reason = new Error('gone');
    await expect(reg.invokeForPython('t', {}, { timeoutMs: 1_000, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });
});
