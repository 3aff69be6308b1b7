/** Turns Python's error maps into typed errors, in one place. */
import { type ErrorCode, PythonError, WorkerError } from '../errors.js';
import type { WireError } from './types.js';

const BRIDGE_CODES = new Set<ErrorCode>(['unknown_tool', 'invalid_args', 'cancelled', 'python_error', 'adapter_import', 'session_restore_failed']);

/** A Python exception (or bridge refusal) as a `PythonError`; codes the bridge does not own stay in `details.code`. */
export function pythonErrorFromWire(error: WireError, tool?: string): PythonError {
  const known = error.code !== undefined && BRIDGE_CODES.has(error.code as ErrorCode);
  const details: Record<string, unknown> = { ...error.details, ...(tool === undefined ? {} : { tool }) };
  if (error.code !== undefined && !known) details.code = error.code;
  let message = `${error.type}: ${error.message}`;
  if (error.code === 'unknown_tool' && Array.isArray(error.details?.available)) {
    message += ` (available: ${(error.details.available as string[]).join(', ')})`;
  }
  return new PythonError(message, {
    exceptionType: error.type,
    pythonTraceback: error.traceback ?? '',
    code: known ? (error.code as ErrorCode) : 'python_error',
    details,
  });
}

/** A start-up failure (`fatal` frame) as a `WorkerError` carrying the Python traceback. */
export function fatalErrorFromWire(error: WireError, workerId: string): WorkerError {
  const code: ErrorCode = error.code === 'adapter_import' ? 'adapter_import' : 'worker_start_failed';
  return new WorkerError(`Worker ${workerId} failed to start: ${error.type}: ${error.message}`, code, {
    ...error.details,
    workerId,
    exceptionType: error.type,
    pythonTraceback: error.traceback,
  });
}
