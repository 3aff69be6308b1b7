import { describe, expect, it } from 'vitest';
import { PythonError, WorkerError } from '../../src/errors.js';
import type { WireError } from '../../src/transport/types.js';
import { fatalErrorFromWire, pythonErrorFromWire } from '../../src/transport/wire-error.js';

const wire = (extra: Partial<WireError> = {}): WireError => ({ type: 'ValueError', message: 'bad value', traceback: 'Traceback (most recent call last): ...', ...extra });

describe('pythonErrorFromWire', () => {
  it.each([
    ['unknown_tool', 'validation'],
    ['invalid_args', 'validation'],
    ['cancelled', 'python_error'],
    ['python_error', 'python_error'],
    ['adapter_import', 'python_error'],
  ])('keeps the bridge code %s (category %s)', (code, category) => {
    const error = pythonErrorFromWire(wire({ code }));
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ name: 'PythonError', code, category });
    expect(error.details).not.toHaveProperty('code');
  });

  it.each([
    ['an application code', 'rate_limited'],
    ['a host-only code', 'pool_saturated'],
    ['a timeout code', 'call_timeout'],
    ['an empty code', ''],
  ])('moves %s to details.code and uses python_error', (_label, code) => {
    const error = pythonErrorFromWire(wire({ code, details: { retryAfter: 3 } }));
    expect(error).toMatchObject({ code: 'python_error', category: 'python_error' });
    expect(error.details).toStrictEqual({ retryAfter: 3, code, exceptionType: 'ValueError' });
  });

  it('uses python_error without a code', () => {
    const error = pythonErrorFromWire(wire());
    expect(error).toMatchObject({ code: 'python_error', category: 'python_error' });
    expect(error.details).toStrictEqual({ exceptionType: 'ValueError' });
  });

  it('keeps the exception type and traceback', () => {
    const error = pythonErrorFromWire(wire({ type: 'ZeroDivisionError', traceback: 'tb text' }));
    expect(error.exceptionType).toBe('ZeroDivisionError');
    expect(error.pythonTraceback).toBe('tb text');
    expect(error.details.exceptionType).toBe('ZeroDivisionError');
  });

  it.each([
    ['with a tool', 'echo', { a: 1, tool: 'echo', exceptionType: 'ValueError' }],
    ['without a tool', undefined, { a: 1, exceptionType: 'ValueError' }],
  ])('adds details.tool %s', (_label, tool, expected) => {
    expect(pythonErrorFromWire(wire({ details: { a: 1 } }), tool).details).toStrictEqual(expected);
  });

  it('reports unknown_tool with the available tools in details', () => {
    const available = ['echo', 'add', 'stream_numbers'];
    const error = pythonErrorFromWire(wire({ type: 'KeyError', code: 'unknown_tool', details: { available } }), 'ech');
    expect(error).toMatchObject({ code: 'unknown_tool', category: 'validation' });
    expect(error.details).toStrictEqual({ available, tool: 'ech', exceptionType: 'KeyError' });
  });

  it('tolerates unknown_tool without a list', () => {
    const error = pythonErrorFromWire(wire({ code: 'unknown_tool', details: { available: 'echo' } }));
    expect(error).toMatchObject({ code: 'unknown_tool', details: { available: 'echo' } });
  });
});

describe('fatalErrorFromWire', () => {
  it.each([
    ['adapter_import', 'adapter_import'],
    [undefined, 'worker_start_failed'],
    ['python_error', 'worker_start_failed'],
    ['unknown_tool', 'worker_start_failed'],
    ['something_else', 'worker_start_failed'],
  ])('code %s -> %s', (wireCode, code) => {
    const error = fatalErrorFromWire(wire(wireCode === undefined ? {} : { code: wireCode }), 'w3');
    expect(error).toBeInstanceOf(WorkerError);
    expect(error).toMatchObject({ name: 'WorkerError', code, category: 'worker', workerId: 'w3' });
  });

  it('carries the worker id, exception type, traceback and Python details', () => {
    const error = fatalErrorFromWire(wire({ type: 'ModuleNotFoundError', traceback: 'tb', code: 'adapter_import', details: { module: 'my_adapter' } }), 'w1');
    expect(error.details).toStrictEqual({ workerId: 'w1', exceptionType: 'ModuleNotFoundError', pythonTraceback: 'tb', module: 'my_adapter' });
  });
});
