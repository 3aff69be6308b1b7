/**
 * A call that failed with an exception its tool raised emits the original's error events
 * (`[:snakepit, :error, ...]`): `snakepit.error.shape_mismatch`, `.dimension_error`, `.device`,
 * `.oom`, `.dtype_mismatch` for the ML errors and `.python_exception` for any other, plus
 * `snakepit.python.exception.mapped` / `.unmapped` (whether the Python type has a class of ours).
 * Also a pool's own retry of a call after its worker crashed (`snakepit.retry.attempt`, with its backoff). Called
 * where a call's outcome is known (the dispatcher); a few `hasSubscribers` checks on a failure.
 */
import { isSnakepitError, type SnakepitError } from '../errors.js';
import type { DeviceMismatchError, DTypeMismatchError, OutOfMemoryError, ShapeMismatchError } from '../python-errors/ml-errors.js';
import { emit, enabled } from './bus.js';
import type { ErrorMeta } from './catalog-ml.js';

/** What the helpers read of a call (the pool's `Task` has these). */
export interface FailedCall {
  readonly tool: string;
  readonly correlationId: string | undefined;
  readonly worker?: { readonly id: string } | undefined;
}

/** Codes of the exceptions a tool raised (not bridge refusals such as `unknown_tool` or `cancelled`). */
const RAISED = new Set(['python_error', 'shape_mismatch', 'dtype_mismatch', 'device_mismatch', 'out_of_memory']);

/** Every event `callFailed` may emit. */
export const ERROR_EVENTS = [
  'snakepit.error.shape_mismatch',
  'snakepit.error.dimension_error',
  'snakepit.error.device',
  'snakepit.error.oom',
  'snakepit.error.dtype_mismatch',
  'snakepit.error.python_exception',
  'snakepit.python.exception.mapped',
  'snakepit.python.exception.unmapped',
] as const;

/** Emits the error events of a call of `pool` that failed with `error` (nothing for other failures). */
export function callFailed(pool: string, call: FailedCall, error: unknown): void {
  if (!isSnakepitError(error) || !RAISED.has(error.code) || !ERROR_EVENTS.some(enabled)) return;
  const meta: ErrorMeta = { pool, tool: call.tool, workerId: call.worker?.id, correlationId: call.correlationId, code: error.code };
  const pythonType = String(error.details.exceptionType ?? 'Exception');
  // Every class of ours but the plain PythonError (ML errors included) is a mapping of the Python type.
  const mapped = error.name !== 'PythonError';
  if (mapped) emit('snakepit.python.exception.mapped', {}, { ...meta, pythonType });
  else emit('snakepit.python.exception.unmapped', {}, { ...meta, pythonType });
  emitErrorEvent(meta, error, pythonType);
}

function emitErrorEvent(meta: ErrorMeta, error: SnakepitError, pythonType: string): void {
  switch (error.code) {
    case 'shape_mismatch': {
      const { expected, got, dimension, operation } = error as ShapeMismatchError;
      if (expected && got && expected.length !== got.length) {
        return emit('snakepit.error.dimension_error', {}, { ...meta, expectedDims: expected.length, gotDims: got.length, ...defined({ operation }) });
      }
      return emit('snakepit.error.shape_mismatch', {}, { ...meta, ...defined({ expected: expected && [...expected], got: got && [...got], dimension, operation }) });
    }
    case 'device_mismatch': {
      const e = error as DeviceMismatchError;
      return emit('snakepit.error.device', {}, { ...meta, ...defined({ expectedDevice: e.expected, actualDevice: e.got, operation: e.operation }) });
    }
    case 'out_of_memory': {
      const e = error as OutOfMemoryError;
      return emit('snakepit.error.oom', defined({ requestedBytes: e.requestedBytes, availableBytes: e.availableBytes }), { ...meta, device: e.device, ...defined({ operation: e.operation }) });
    }
    case 'dtype_mismatch': {
      const e = error as DTypeMismatchError;
      return emit('snakepit.error.dtype_mismatch', {}, { ...meta, ...defined({ expected: e.expected, got: e.got, operation: e.operation }) });
    }
    default: {
      // The error's message is "<Type>: <Python's message>"; the event carries Python's own.
      const prefix = `${pythonType}: `;
      const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
      const traceback = (error as { pythonTraceback?: unknown }).pythonTraceback;
      return emit('snakepit.error.python_exception', {}, { ...meta, type: pythonType, message, traceback: typeof traceback === 'string' ? traceback : '' });
    }
  }
}

/** A pool sends a call again, after `delayMs` (the crash barrier's `retryBackoff`), because its worker crashed: `snakepit.retry.attempt`. */
export function callRetried(pool: string, call: FailedCall & { readonly retries: number }, error: unknown, delayMs: number): void {
  if (enabled('snakepit.retry.attempt')) emit('snakepit.retry.attempt', { attempt: call.retries, delayMs }, { pool, operation: call.tool, lastError: error });
}

function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
