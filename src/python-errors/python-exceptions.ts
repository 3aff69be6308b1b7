/**
 * Python's common exception types as `PythonError` subclasses (the original's
 * `Snakepit.Error.PythonException` translation), so callers can `instanceof`-check what Python
 * raised. The hierarchy follows Python's: `PythonKeyError` is a `PythonLookupError`,
 * `PythonFileNotFoundError` a `PythonOSError`. Every class keeps code `python_error`; the exact
 * Python type stays in `exceptionType`. Names carry a `Python` prefix so they never shadow
 * JavaScript's own `TypeError` or `RangeError`.
 */
import { PythonError } from '../errors.js';

export class PythonValueError extends PythonError {}
export class PythonTypeError extends PythonError {}
export class PythonLookupError extends PythonError {}
export class PythonKeyError extends PythonLookupError {}
export class PythonIndexError extends PythonLookupError {}
export class PythonAttributeError extends PythonError {}
export class PythonNameError extends PythonError {}
export class PythonRuntimeError extends PythonError {}
export class PythonNotImplementedError extends PythonRuntimeError {}
export class PythonRecursionError extends PythonRuntimeError {}
export class PythonImportError extends PythonError {}
export class PythonModuleNotFoundError extends PythonImportError {}
export class PythonArithmeticError extends PythonError {}
export class PythonZeroDivisionError extends PythonArithmeticError {}
export class PythonOverflowError extends PythonArithmeticError {}
export class PythonOSError extends PythonError {}
export class PythonFileNotFoundError extends PythonOSError {}
export class PythonPermissionError extends PythonOSError {}
export class PythonConnectionError extends PythonOSError {}
/** Python's `TimeoutError` (an `OSError`): raised by the tool, not a Snakepit deadline (`call_timeout`). */
export class PythonTimeoutError extends PythonOSError {}
export class PythonMemoryError extends PythonError {}
export class PythonAssertionError extends PythonError {}
export class PythonStopIteration extends PythonError {}

type PythonErrorClass = new (...args: ConstructorParameters<typeof PythonError>) => PythonError;

/**
 * Python type name -> class. Subclasses Python has but we do not model map to their nearest
 * modelled base (`JSONDecodeError` -> `PythonValueError`), since only the type name crosses the wire.
 */
const CLASSES: ReadonlyMap<string, PythonErrorClass> = new Map<string, PythonErrorClass>([
  ['ValueError', PythonValueError],
  ['JSONDecodeError', PythonValueError],
  ['UnicodeError', PythonValueError],
  ['UnicodeDecodeError', PythonValueError],
  ['UnicodeEncodeError', PythonValueError],
  ['TypeError', PythonTypeError],
  ['UFuncTypeError', PythonTypeError],
  ['LookupError', PythonLookupError],
  ['KeyError', PythonKeyError],
  ['IndexError', PythonIndexError],
  ['AttributeError', PythonAttributeError],
  ['NameError', PythonNameError],
  ['UnboundLocalError', PythonNameError],
  ['RuntimeError', PythonRuntimeError],
  ['NotImplementedError', PythonNotImplementedError],
  ['RecursionError', PythonRecursionError],
  ['ImportError', PythonImportError],
  ['ModuleNotFoundError', PythonModuleNotFoundError],
  ['ArithmeticError', PythonArithmeticError],
  ['ZeroDivisionError', PythonZeroDivisionError],
  ['OverflowError', PythonOverflowError],
  ['FloatingPointError', PythonArithmeticError],
  ['OSError', PythonOSError],
  ['IOError', PythonOSError],
  ['EnvironmentError', PythonOSError],
  ['FileExistsError', PythonOSError],
  ['IsADirectoryError', PythonOSError],
  ['NotADirectoryError', PythonOSError],
  ['BlockingIOError', PythonOSError],
  ['ChildProcessError', PythonOSError],
  ['ProcessLookupError', PythonOSError],
  ['InterruptedError', PythonOSError],
  ['FileNotFoundError', PythonFileNotFoundError],
  ['PermissionError', PythonPermissionError],
  ['ConnectionError', PythonConnectionError],
  ['ConnectionRefusedError', PythonConnectionError],
  ['ConnectionResetError', PythonConnectionError],
  ['ConnectionAbortedError', PythonConnectionError],
  ['BrokenPipeError', PythonConnectionError],
  ['TimeoutError', PythonTimeoutError],
  ['MemoryError', PythonMemoryError],
  ['AssertionError', PythonAssertionError],
  ['StopIteration', PythonStopIteration],
  ['StopAsyncIteration', PythonStopIteration],
]);

/**
 * The class for a Python exception type name (a dotted name is matched on its last part), or
 * `PythonError` itself for types not in the table: unknown types stay typed, never untyped.
 */
export function pythonExceptionClass(exceptionType: string): PythonErrorClass {
  const name = exceptionType.slice(exceptionType.lastIndexOf('.') + 1);
  return CLASSES.get(name) ?? PythonError;
}

/** The Python type names with a class of their own or of a base (for docs and tests). */
export function mappedPythonExceptionTypes(): string[] {
  return [...CLASSES.keys()];
}
