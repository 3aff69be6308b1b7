// sp.map's options and inputs: defaults, and typed errors naming the field, the expectation and the value.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { inputArray, resolveMapOptions } from '../../../src/pool/map-options.js';

describe('resolveMapOptions', () => {
  it('fills the defaults and passes the call options on to each chunk', () => {
    const signal = new AbortController().signal;
    const resolved = resolveMapOptions({ pool: 'ml', sessionId: 's', metadata: { a: 1 }, idempotent: true, signal, timeoutMs: 500 });
    expect(resolved).toEqual({
      chunkSize: 'auto',
      mode: 'fail',
      concurrency: undefined,
      onProgress: undefined,
      call: { sessionId: 's', metadata: { a: 1 }, idempotent: true, signal, timeoutMs: 500 },
    });
  });

  it.each([
    [{ chunkSize: 0 }, 'chunkSize', "an integer >= 1 or 'auto'", '0 (number)'],
    [{ chunkSize: 2.5 }, 'chunkSize', "an integer >= 1 or 'auto'", '2.5 (number)'],
    [{ mode: 'all' }, 'mode', "'fail' or 'settle'", '"all" (string)'],
    [{ concurrency: -1 }, 'concurrency', 'an integer >= 1', '-1 (number)'],
    [{ timeoutMs: 0 }, 'timeoutMs', 'a number > 0', '0 (number)'],
    [{ onProgress: 'log' }, 'onProgress', 'a function', '"log" (string)'],
  ])('%j is invalid_argument naming %s', (options, path, expected, received) => {
    let error: unknown;
    try {
      resolveMapOptions(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'invalid_argument', details: { issues: [{ path, expected, received }] } });
  });
});

describe('inputArray', () => {
  it('takes arrays as they are and other iterables as arrays', () => {
    const inputs = [{ x: 1 }];
    expect(inputArray(inputs)).toBe(inputs);
    expect(inputArray(new Set([{ x: 2 }]))).toEqual([{ x: 2 }]);
  });

  it.each([
    [[{ x: 1 }, 2], 'inputs[1]'],
    [[null], 'inputs[0]'],
    [[[1]], 'inputs[0]'],
    ['abc', 'inputs'],
    [{ x: 1 }, 'inputs'],
  ])('%j is invalid_argument naming %s', (inputs, field) => {
    expect(() => inputArray(inputs as never)).toThrow(expect.objectContaining({ code: 'invalid_argument', details: expect.objectContaining({ field }) }));
  });
});
