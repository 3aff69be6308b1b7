/** Python exceptions as typed errors: one class per common type, the ML error family, the parser. */
export * from './python-exceptions.js';
export { ShapeMismatchError, DTypeMismatchError, DeviceMismatchError, OutOfMemoryError, oomSuggestions, type ShapeMismatch, type OutOfMemory, type FromPython, type DeviceName } from './ml-errors.js';
export { extractShape, matchMlError, normalizeDType, parseByteSize, type MlErrorMatch } from './ml-parser.js';
export { parsePythonError, type PythonExceptionData } from './translate.js';
