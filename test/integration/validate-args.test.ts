// validateArgs: the host checks arguments against the types the workers report, before a call is queued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonError, Tensor, ValidationError, type Snakepit } from '../../src/index.js';
import { startPool } from '../helpers/pool.js';

/** An untyped call (the fixture's types are not generated into this program). */
function call(sp: Snakepit, tool: string, args: Record<string, unknown>): Promise<unknown> {
  return sp.execute(tool, args);
}

async function failure(promise: Promise<unknown>): Promise<ValidationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError); // the host's, not Python's (a PythonError)
  return error as ValidationError;
}

describe('validateArgs: true', () => {
  let sp: Snakepit;
  beforeAll(async () => {
    ({ sp } = await startPool({ adapter: 'typed_adapter.TypedAdapter', validateArgs: true }));
  });
  afterAll(() => sp.stop());

  it('lets well-typed calls through, ints as numbers or bigints, tensors of the declared dtype', async () => {
    expect(await call(sp, 'point', { p: { x: 1, y: 2.5 } })).toEqual({ x: 2, y: 5 });
    expect(await call(sp, 'big', { n: 2n })).toBe(2n * 2n ** 60n);
    expect(await call(sp, 'literal', { mode: 'fast' })).toBe('ok');
    expect(await call(sp, 'kwargs', { a: 1, extra: 'x' })).toEqual({ a: 1, extra: 'x' });
    const scaled = await call(sp, 'scale', { x: new Tensor('float64', [2], new Float64Array([1, 2])) });
    expect(scaled).toBeInstanceOf(Tensor);
  });

  it.each([
    ['a mistyped nested field', 'point', { p: { x: '1', y: 2 } }, { path: 'p.x', expected: 'number', received: '"1" (string)' }],
    ['a missing required field', 'point', { p: { x: 1 } }, { path: 'p.y', expected: 'number', received: 'undefined' }],
    ['a float for an int', 'big', { n: 1.5 }, { path: 'n', expected: 'PyInt', received: '1.5 (number)' }],
    ['a value outside a Literal', 'literal', { mode: 'medium' }, { path: 'mode', expected: "'fast' | 'slow'", received: '"medium" (string)' }],
    ['a value outside an Enum', 'color', { c: 'blue' }, { path: 'c', expected: 'Color', received: '"blue" (string)' }],
    ['a wrong **kwargs value', 'kwargs', { a: 1, extra: 2 }, { path: 'extra', expected: 'string', received: '2 (number)' }],
    ['a list item of the wrong type', 'containers', { xs: [1, 'two'], m: {}, t: [1, 'a'], s: [] }, { path: 'xs', expected: 'readonly PyInt[]' }],
    ['a missing argument', 'literal', {}, { path: 'mode', expected: "'fast' | 'slow'", received: 'undefined' }],
    ['an unknown argument', 'big', { n: 1, m: 2 }, { path: 'm', received: 'an extra argument' }],
  ])('rejects %s with invalid_args naming the field, expected and received', async (_, tool, args, issue) => {
    const error = await failure(call(sp, tool, args));
    expect(error).toMatchObject({ code: 'invalid_args', category: 'validation', details: { tool, pool: 'default' } });
    expect(error.details.issues).toEqual([expect.objectContaining(issue)]);
  });

  it('rejects a plain array where an ndarray is declared', async () => {
    const error = await failure(call(sp, 'scale', { x: [1, 2] }));
    expect(error.details.issues).toEqual([expect.objectContaining({ path: 'x', expected: 'Tensor | ZeroCopyRef' })]);
  });
});

describe('validateArgs: false (the default)', () => {
  let sp: Snakepit;
  beforeAll(async () => {
    ({ sp } = await startPool({ adapter: 'typed_adapter.TypedAdapter' }));
  });
  afterAll(() => sp.stop());

  it('sends arguments as they are: Python binds them (and rejects what does not bind)', async () => {
    expect(await call(sp, 'point', { p: { x: 1, y: 2 } })).toEqual({ x: 2, y: 4 });
    const error = await call(sp, 'big', { n: 1, m: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ code: 'invalid_args' });
    expect(sp.tools()[0]?.types).toBeUndefined(); // workers send no types when nobody validates
  });
});
