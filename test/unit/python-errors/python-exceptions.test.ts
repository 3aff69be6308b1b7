// Python exception types become PythonError subclasses that follow Python's hierarchy; unknown types stay PythonError.
import { describe, expect, it } from 'vitest';
import {
  isSnakepitError,
  mappedPythonExceptionTypes,
  parsePythonError,
  PythonArithmeticError,
  PythonAssertionError,
  PythonAttributeError,
  PythonError,
  pythonExceptionClass,
  PythonFileNotFoundError,
  PythonImportError,
  PythonIndexError,
  PythonKeyError,
  PythonLookupError,
  PythonMemoryError,
  PythonModuleNotFoundError,
  PythonNotImplementedError,
  PythonOSError,
  PythonPermissionError,
  PythonRuntimeError,
  PythonTimeoutError,
  PythonTypeError,
  PythonValueError,
  PythonZeroDivisionError,
} from '../../../src/index.js';

/** [Python type, class, a base class it must also be]. */
const TABLE: [string, abstract new (...args: never[]) => PythonError, abstract new (...args: never[]) => PythonError][] = [
  ['ValueError', PythonValueError, PythonError],
  ['JSONDecodeError', PythonValueError, PythonError],
  ['TypeError', PythonTypeError, PythonError],
  ['KeyError', PythonKeyError, PythonLookupError],
  ['IndexError', PythonIndexError, PythonLookupError],
  ['AttributeError', PythonAttributeError, PythonError],
  ['RuntimeError', PythonRuntimeError, PythonError],
  ['NotImplementedError', PythonNotImplementedError, PythonRuntimeError],
  ['ImportError', PythonImportError, PythonError],
  ['ModuleNotFoundError', PythonModuleNotFoundError, PythonImportError],
  ['FileNotFoundError', PythonFileNotFoundError, PythonOSError],
  ['PermissionError', PythonPermissionError, PythonOSError],
  ['ZeroDivisionError', PythonZeroDivisionError, PythonArithmeticError],
  ['TimeoutError', PythonTimeoutError, PythonOSError],
  ['MemoryError', PythonMemoryError, PythonError],
  ['OSError', PythonOSError, PythonError],
  ['AssertionError', PythonAssertionError, PythonError],
];

describe.each(TABLE)('%s', (type, Class, Base) => {
  const error = parsePythonError({ type, message: 'something', traceback: 'Traceback ...' });

  it('becomes its class, which is also its Python base, a PythonError and a SnakepitError', () => {
    expect(pythonExceptionClass(type)).toBe(Class);
    expect(error).toBeInstanceOf(Class);
    expect(error).toBeInstanceOf(Base);
    expect(error).toBeInstanceOf(PythonError);
    expect(isSnakepitError(error)).toBe(true);
  });

  it('keeps code python_error, the exception type and the traceback', () => {
    expect(error).toMatchObject({ code: 'python_error', category: 'python_error', exceptionType: type, pythonTraceback: 'Traceback ...', name: Class.name });
    expect(error.details.exceptionType).toBe(type);
  });
});

describe('pythonExceptionClass', () => {
  it.each(['ValidationError', 'CustomAppError', 'RayTaskError', ''])('keeps the unknown type %j a plain PythonError', (type) => {
    expect(pythonExceptionClass(type)).toBe(PythonError);
    const error = parsePythonError({ type, message: 'x' });
    expect(error.constructor).toBe(PythonError);
    expect(error).toMatchObject({ name: 'PythonError', code: 'python_error', exceptionType: type });
  });

  it('matches a dotted name on its last part', () => {
    expect(pythonExceptionClass('json.decoder.JSONDecodeError')).toBe(PythonValueError);
    expect(pythonExceptionClass('builtins.KeyError')).toBe(PythonKeyError);
  });

  it('lists every mapped type, each with a class other than PythonError', () => {
    const types = mappedPythonExceptionTypes();
    expect(types).toEqual(expect.arrayContaining(TABLE.map(([t]) => t)));
    for (const type of types) expect(pythonExceptionClass(type)).not.toBe(PythonError);
  });

  it('uses "<type>: <message>" as the message by default, and the given text otherwise', () => {
    expect(parsePythonError({ type: 'KeyError', message: "'k'" }).message).toBe("KeyError: 'k'");
    expect(parsePythonError({ type: 'KeyError', message: "'k'" }, 'custom').message).toBe('custom');
  });

  it('serialises with its class name', () => {
    const json = parsePythonError({ type: 'IndexError', message: 'list index out of range', details: { tool: 't' } }).toJSON();
    expect(json).toStrictEqual({ name: 'PythonIndexError', code: 'python_error', category: 'python_error', message: 'IndexError: list index out of range', details: { tool: 't', exceptionType: 'IndexError' } });
  });
});
