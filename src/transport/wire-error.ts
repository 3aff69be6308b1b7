/** Turns Python's error maps into typed errors, in one place. */
import { keptFromFatal, keptFromPython } from '../error-table.js';
import { copyFields } from '../object-copy.js';
import { type ErrorCode, isSnakepitError, PythonError, WorkerError } from '../errors.js';
import { parsePythonError } from '../python-errors/translate.js';
import type { WireError } from './types.js';


/**
 * A Python exception (or bridge refusal) as a `PythonError`; codes the bridge does not own stay in
 * `details.code`. A raised exception becomes its class (`PythonValueError`, ...) or, when the
 * message is a shape/dtype/device/OOM failure, a `ShapeMismatchError` etc. (see python-errors/).
 */
export function pythonErrorFromWire(error: WireError, tool?: string): PythonError {
  const known = error.code !== undefined && keptFromPython(error.code);
  const details = copyFields(error.details); // not a spread: fields are added below (object-copy.ts)
  if (tool !== undefined) details.tool = tool;
  if (error.code !== undefined && !known) details.code = error.code;
  let message = `${error.type}: ${error.message}`;
  if (error.code === 'unknown_tool' && Array.isArray(error.details?.available)) {
    message += ` (available: ${(error.details.available as string[]).join(', ')})`;
  }
  const code: ErrorCode = known ? (error.code as ErrorCode) : 'python_error';
  // An exception the tool raised gets its class (and ML errors their fields); bridge refusals stay plain.
  if (code === 'python_error') return parsePythonError({ type: error.type, message: error.message, traceback: error.traceback ?? '', details }, message);
  return new PythonError(message, { exceptionType: error.type, pythonTraceback: error.traceback ?? '', code, details });
}

/** A batch's failed inputs (`[index, error map]`, `sp.map`) as typed errors, each as a call of `tool` would fail. */
export function itemErrorsFromWire(errors: readonly (readonly [number, WireError])[] | undefined, tool: string): [number, Error][] | undefined {
  return errors?.length ? errors.map(([index, error]) => [index, pythonErrorFromWire(error, tool)]) : undefined;
}

/** A start-up failure (`fatal` frame) as a `WorkerError` carrying the Python traceback. */
export function fatalErrorFromWire(error: WireError, workerId: string): WorkerError {
  const kept = keptFromFatal(error.code);
  const code = (kept ? error.code : 'worker_start_failed') as ErrorCode;
  return new WorkerError(`Worker ${workerId} failed to start: ${error.type}: ${error.message}`, code, {
    ...error.details,
    ...(!kept && error.code ? { code: error.code } : {}),
    workerId,
    exceptionType: error.type,
    pythonTraceback: error.traceback,
  });
}

/**
 * A host-side failure as the error map Python receives (host tools, state requests). The host's
 * stack goes as `traceback`; a SnakepitError keeps its code and details, anything else is
 * `host_tool_error`. A wrapped error's cause is what the tool actually threw: its name and stack
 * tell Python more.
 */
export function wireErrorFromError(error: unknown): WireError {
  const e = error instanceof Error ? error : new Error(String(error));
  const thrown = isSnakepitError(e) && e.code === 'host_tool_error' && e.cause instanceof Error ? e.cause : e;
  return {
    type: isSnakepitError(e) && thrown === e ? e.name : thrown.name,
    message: e.message,
    traceback: thrown.stack ?? '',
    code: isSnakepitError(e) ? e.code : 'host_tool_error',
    details: isSnakepitError(e) ? toPlain(e.details) : {},
  };
}

/** Details must survive msgpack: drop functions and class instances msgpack cannot carry. */
function toPlain(details: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return {};
  }
}
