/**
 * Python exception -> typed error, in one place: the ML parser first (shape, dtype, device,
 * out-of-memory), then the class of the Python type, then plain `PythonError` for types we do not
 * model. The transports call this through `pythonErrorFromWire`.
 */
import type { PythonError } from '../errors.js';
import { DeviceMismatchError, DTypeMismatchError, OutOfMemoryError, ShapeMismatchError } from './ml-errors.js';
import { matchMlError } from './ml-parser.js';
import { pythonExceptionClass } from './python-exceptions.js';

/** A Python exception as it arrives: its type name, message and traceback. */
export interface PythonExceptionData {
  type: string;
  message: string;
  traceback?: string;
  details?: Record<string, unknown>;
}

/**
 * The typed error for a Python exception (the original's `Error.Parser.parse`). `text` is the
 * error's message (default `"<type>: <message>"`).
 * @example parsePythonError({ type: 'RuntimeError', message: 'mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)' }) // ShapeMismatchError
 */
export function parsePythonError(data: PythonExceptionData, text = `${data.type}: ${data.message}`): PythonError {
  const base = { exceptionType: data.type, pythonTraceback: data.traceback ?? '', details: data.details ?? {} };
  const ml = matchMlError(data.type, data.message);
  switch (ml?.kind) {
    case 'shape': {
      const { kind: _kind, shapes, ...shape } = ml;
      return new ShapeMismatchError(text, { ...base, ...shape, details: { ...base.details, ...(shapes ? { shapes } : {}) } });
    }
    case 'dtype':
    case 'device': {
      const { kind, ...fields } = ml;
      return kind === 'dtype' ? new DTypeMismatchError(text, { ...base, ...fields }) : new DeviceMismatchError(text, { ...base, ...fields });
    }
    case 'oom': {
      const { kind: _kind, ...fields } = ml;
      return new OutOfMemoryError(text, { ...base, ...fields });
    }
    case undefined:
      break;
  }
  const Class = pythonExceptionClass(data.type);
  return new Class(text, base);
}
