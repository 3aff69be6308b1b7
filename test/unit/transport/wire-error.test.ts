import { describe, expect, it } from 'vitest';
import { PythonError, WorkerError } from '../../../src/errors.js';
import { PythonKeyError, ShapeMismatchError } from '../../../src/python-errors/index.js';
import type { WireError } from '../../../src/transport/types.js';
import { fatalErrorFromWire, pythonErrorFromWire } from '../../../src/transport/wire-error.js';

const wire = (extra: Partial<WireError> = {}): WireError => ({ type: 'ValueError', message: 'bad value', traceback: 'Traceback (most recent call last): ...', ...extra });

describe('pythonErrorFromWire', () => {
  it.each([
    ['unknown_tool', 'validation', 'PythonError'],
    ['invalid_args', 'validation', 'PythonError'],
    ['cancelled', 'python_error', 'PythonError'],
    // A raised exception gets the class of its Python type; bridge refusals stay plain.
    ['python_error', 'python_error', 'PythonValueError'],
    ['adapter_import', 'python_error', 'PythonError'],
  ])('keeps the bridge code %s (category %s)', (code, category, name) => {
    const error = pythonErrorFromWire(wire({ code }));
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ name, code, category });
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

describe('pythonErrorFromWire translation', () => {
  it('gives a raised exception its class, whatever application code it carries', () => {
    const error = pythonErrorFromWire(wire({ type: 'KeyError', message: "'k'", code: 'rate_limited' }), 'lookup');
    expect(error).toBeInstanceOf(PythonKeyError);
    expect(error).toMatchObject({ code: 'python_error', exceptionType: 'KeyError', details: { code: 'rate_limited', tool: 'lookup' } });
  });

  it('turns an ML failure into its structured error, keeping tool, details and traceback', () => {
    const error = pythonErrorFromWire(wire({ type: 'RuntimeError', message: 'mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)', code: 'python_error', details: { a: 1 } }), 'predict');
    expect(error).toBeInstanceOf(ShapeMismatchError);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ code: 'shape_mismatch', category: 'python_error', message: 'RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)' });
    expect(error.pythonTraceback).toBe('Traceback (most recent call last): ...');
    expect(error.details).toMatchObject({ a: 1, tool: 'predict', expected: [3, 5], got: [4, 5], dimension: 0 });
  });

  it('leaves bridge refusals untranslated even when their text looks like an ML error', () => {
    const error = pythonErrorFromWire(wire({ type: 'TypeError', message: 'expected scalar type Float but found Double', code: 'invalid_args' }));
    expect(error.constructor).toBe(PythonError);
    expect(error.code).toBe('invalid_args');
  });
});

describe('fatalErrorFromWire', () => {
  it.each([
    ['adapter_import', 'adapter_import'],
    ['adapter_not_thread_safe', 'adapter_not_thread_safe'],
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
