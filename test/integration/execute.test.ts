// Unary calls, values in both directions, and errors from Python.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonError, Tensor, isSnakepitError, type Snakepit } from '../../src/index.js';
import { startPool } from '../helpers/pool.js';

describe('execute with the showcase adapter', () => {
  let sp: Snakepit;
  beforeAll(async () => {
    ({ sp } = await startPool());
  });
  afterAll(() => sp.stop());

  it('runs ping, echo and add', async () => {
    expect(await sp.execute('ping', { message: 'hello' })).toMatchObject({ status: 'ok', message: 'pong' });
    expect(await sp.execute('echo', { message: 'hi' })).toMatchObject({ message: 'hi', success: true });
    expect(await sp.execute('add', { a: 10, b: 25 })).toMatchObject({ result: 35, operation: 'addition' });
  });

  it.each([
    ['count', 5],
    ['sum', 15],
    ['max', 5],
    ['min', 1],
  ])('process_list %s', async (operation, expected) => {
    expect(await sp.execute('process_list', { items: [1, 2, 3, 4, 5], operation })).toMatchObject({ result: expected });
  });

  it('turns a structured tool error into a PythonError with its code in details', async () => {
    const error = await sp.execute('process_list', { items: [1], operation: 'median' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ code: 'python_error', category: 'python_error', details: { code: 'unknown_operation', available: ['count', 'max', 'min', 'sum'] } });
  });

  it("a rejected call's stack points at the caller's own line", async () => {
    async function callerOfExecute(): Promise<unknown> {
      const result = await sp.execute('process_list', { items: [1], operation: 'median' });
      return result;
    }
    const error = (await callerOfExecute().catch((e: unknown) => e)) as Error;
    expect(isSnakepitError(error)).toBe(true);
    expect(error.stack).toContain('callerOfExecute');
    expect(error.stack).toContain('execute.test.ts');
  });

  it("a call refused before it reaches a pool rejects (never throws) with the caller's line in its stack", async () => {
    function callerOfMissingPool(): Promise<unknown> {
      return sp.execute('ping', {}, { pool: 'no-such-pool' });
    }
    let returned: Promise<unknown> | undefined;
    expect(() => (returned = callerOfMissingPool())).not.toThrow();
    const error = (await returned!.catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'unknown_pool' });
    expect(error.stack).toContain('callerOfMissingPool');
  });

  it('lists the available tools for an unknown tool', async () => {
    const error = await sp.execute('no_such_tool').catch((e: unknown) => e);
    expect(isSnakepitError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'unknown_tool', category: 'validation' });
    expect((error as PythonError).details.available).toEqual(expect.arrayContaining(['add', 'echo', 'ping', 'process_list']));
  });

  it('rejects arguments that do not bind to the signature', async () => {
    await expect(sp.execute('add', { a: 1 })).rejects.toMatchObject({ code: 'invalid_args', category: 'validation' });
  });

  it('carries a Python exception type and traceback', async () => {
    const error = (await sp.execute('raise_error', { message: 'boom', type: 'KeyError' }).catch((e: unknown) => e)) as PythonError;
    expect(error).toBeInstanceOf(PythonError);
    expect(error.exceptionType).toBe('KeyError');
    expect(error.pythonTraceback).toContain('Traceback');
    expect(error.pythonTraceback).toContain('raise_error');
  });

  it('reports the tools from the handshake', () => {
    const names = sp.tools().map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['ping', 'echo', 'add', 'process_list', 'stream_progress']));
    expect(sp.tools().find((t) => t.name === 'stream_progress')?.supports_streaming).toBe(true);
  });
});

describe('values in both directions', () => {
  let sp: Snakepit;
  beforeAll(async () => {
    ({ sp } = await startPool({ adapter: 'echo_adapter.EchoAdapter' }));
  });
  afterAll(() => sp.stop());

  const echo = (value: unknown) => sp.execute('echo_value', { value });

  it.each([
    ['an int', 42],
    ['a negative int', -7],
    ['a float', 2.5],
    ['a string', 'héllo ✓'],
    ['true', true],
    ['null', null],
    ['a nested structure', { a: [1, { b: [true, null, 'x'] }], c: { d: 1.5 } }],
    ['an int beyond 2^53 as bigint', 2n ** 60n],
    ['an int beyond 2^64 as bigint', -(2n ** 100n)],
  ])('round-trips %s', async (_label, value) => {
    expect(await echo(value)).toEqual(value);
  });

  it('keeps int vs float on the Python side', async () => {
    const r = await sp.execute<{ types: Record<string, string> }>('types_of', { i: 3, f: 3.5, big: 2n ** 70n });
    expect(r.types).toEqual({ i: 'int', f: 'float', big: 'int' });
  });

  it('maps Uint8Array and Buffer to bytes and back', async () => {
    const r = await sp.execute<{ types: Record<string, string> }>('types_of', { u: new Uint8Array([1, 2, 3]), b: Buffer.from('hi') });
    expect(r.types).toEqual({ u: 'bytes', b: 'bytes' });
    const back = await echo(new Uint8Array([0, 255, 7]));
    expect(back).toBeInstanceOf(Uint8Array);
    expect([...(back as Uint8Array)]).toEqual([0, 255, 7]);
  });

  it('maps a Tensor to a numpy array and back without losing dtype or shape', async () => {
    const t = new Tensor('float32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6]));
    const r = await sp.execute<{ type: string; dtype: string; shape: number[]; sum: number }>('describe_array', { value: t });
    expect(r).toEqual({ type: 'ndarray', dtype: 'float32', shape: [2, 3], sum: 21 });
    const back = (await echo(t)) as Tensor;
    expect(back).toBeInstanceOf(Tensor);
    expect(back.dtype).toBe('float32');
    expect(back.shape).toEqual([2, 3]);
    expect(back.data).toBeInstanceOf(Float32Array);
    expect([...back.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('passes the session id and metadata to Python', async () => {
    const r = await sp.execute('context', {}, { sessionId: 's-1', metadata: { trace: 'abc' } });
    expect(r).toMatchObject({ session_id: 's-1', metadata: { trace: 'abc' }, cancelled: false });
  });
});
