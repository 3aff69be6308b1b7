/**
 * What each error code means beyond its error class, in one table: whether Python sends it in an
 * error map (and what it becomes here), whether it counts against a pool's circuit, and the gRPC
 * status a host service answers with. Python's own table is `snakepit_bridge/wire_errors.py`; a
 * test checks that the codes Python sends are the ones marked `wire` here.
 */
import type { ErrorCategory, ErrorCode } from './errors.js';

/** The gRPC status names the table uses (grpc-js's `status` keys). */
export type GrpcStatusName = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'DEADLINE_EXCEEDED' | 'RESOURCE_EXHAUSTED' | 'UNAVAILABLE' | 'INTERNAL';

/** One code's rules. */
export interface ErrorRule {
  /**
   * Python sends it in an error map. `'keep'`: the `PythonError` keeps the code (a bridge
   * refusal or condition); `'details'`: it arrives as `python_error` with the code in
   * `details.code` (Python raised one of our exceptions and did not catch it).
   */
  wire?: 'keep' | 'details';
  /** The category of a `PythonError` with this code (kept wire codes only). @default 'python_error' */
  pythonCategory?: Extract<ErrorCategory, 'validation'>;
  /** Counts against the pool's circuit breaker: the pool is failing, not the call. */
  poolFailure?: true;
  /** The gRPC status (its name) a host service answers with, over the category's default. */
  grpcStatus?: GrpcStatusName;
  /** A start-up failure (`fatal` frame) keeps this code; any other is `worker_start_failed`. */
  fatal?: true;
}

const keep = { wire: 'keep' } as const;
const details = { wire: 'details' } as const;
const poolFailure = { poolFailure: true } as const;

/** Codes only Python sends (failures of its own start-up): never a host error's code. */
export type PythonOnlyCode = 'grpc_unavailable' | 'listen_failed';

/**
 * Every code with a rule; codes without one are plain (their class says everything). The `wire`
 * rows are the codes Python originates; a host code Python passes back (a host tool's error it did
 * not catch) is not kept, like any code without a `wire: 'keep'` row.
 */
export const ERROR_TABLE: Readonly<Partial<Record<ErrorCode | PythonOnlyCode, ErrorRule>>> = {
  // What Python sends and the host keeps.
  python_error: keep,
  unknown_tool: { ...keep, pythonCategory: 'validation', grpcStatus: 'NOT_FOUND' },
  invalid_args: { ...keep, pythonCategory: 'validation' },
  cancelled: keep,
  adapter_import: { ...keep, fatal: true },
  // A thread-profile worker's adapter does not declare __thread_safe__ = True (requireThreadSafeAdapter).
  adapter_not_thread_safe: { ...keep, fatal: true },
  session_restore_failed: keep,
  payload_too_large: keep,
  unserializable: keep,
  arrow_unavailable: keep,
  // A gRPC worker answering a pipe `call` frame: a host bug, reported as the worker's refusal.
  wrong_transport: keep,
  // Our own exceptions raised in Python (a host tool that failed) and not caught by the tool.
  host_tool_timeout: details,
  host_unavailable: { ...details, ...poolFailure },
  host_tool_error: details,
  no_session: details,
  // Start-up failures of a gRPC worker: the worker failed to start (`worker_start_failed`, the code in details).
  grpc_unavailable: details,
  listen_failed: details,
  invalid_host_tool_args: details,
  // The pool is failing: worker deaths and hangs, deadlines, an unreachable or unhealthy pool.
  worker_crashed: poolFailure,
  worker_hung: poolFailure,
  worker_start_failed: poolFailure,
  protocol_error: poolFailure,
  unauthenticated: poolFailure,
  call_timeout: poolFailure,
  queue_timeout: poolFailure,
  pool_unhealthy: poolFailure,
  // Load, not failure: shed by `poolMaxQueueSize`, answered to gRPC callers as "try later".
  pool_saturated: { grpcStatus: 'RESOURCE_EXHAUSTED' },
};

const CATEGORY_STATUS: Record<ErrorCategory, GrpcStatusName> = {
  validation: 'INVALID_ARGUMENT',
  timeout: 'DEADLINE_EXCEEDED',
  pool: 'UNAVAILABLE',
  worker: 'INTERNAL',
  python_error: 'INTERNAL',
  grpc_error: 'INTERNAL',
};

const rule = (code: string): ErrorRule | undefined => (ERROR_TABLE as Record<string, ErrorRule | undefined>)[code];

/** The codes Python may send in an error map (the wire's set). */
export const WIRE_ERROR_CODES: readonly string[] = Object.keys(ERROR_TABLE).filter((code) => rule(code)?.wire !== undefined);

/** Codes that count against a pool's circuit. */
export const POOL_FAILURE_CODES: ReadonlySet<string> = new Set(Object.keys(ERROR_TABLE).filter((code) => rule(code)?.poolFailure));

/** True when a `PythonError` keeps `code` (else it is `python_error` with the code in details). */
export function keptFromPython(code: string): boolean {
  return rule(code)?.wire === 'keep';
}

/** The category of a `PythonError` with `code`. */
export function pythonCategory(code: string): ErrorCategory {
  return rule(code)?.pythonCategory ?? 'python_error';
}

/** True when a `fatal` frame's code is kept. */
export function keptFromFatal(code: string | undefined): boolean {
  return code !== undefined && rule(code)?.fatal === true;
}

/** The gRPC status (name) for an error of `code` in `category`. */
export function grpcStatusOf(code: string, category: ErrorCategory): GrpcStatusName {
  return rule(code)?.grpcStatus ?? CATEGORY_STATUS[category];
}
