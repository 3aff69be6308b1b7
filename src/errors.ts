/** Error family of Snakepit: one base class with a stable `code` and `category`. */
import { pythonCategory } from './error-table.js';

/** Broad class of a failure, as in the original's `Snakepit.Error` categories. */
export type ErrorCategory = 'worker' | 'timeout' | 'python_error' | 'grpc_error' | 'validation' | 'pool';

/** Stable machine-readable codes. Assert on these, never on message text. */
export type ErrorCode =
  // validation
  | 'invalid_config'
  | 'config_not_found'
  | 'invalid_argument'
  | 'unknown_pool'
  | 'unknown_tool'
  | 'invalid_args'
  | 'unknown_host_tool'
  | 'invalid_host_tool_args'
  | 'duplicate_tool'
  | 'unknown_session'
  | 'no_session'
  | 'unknown_call'
  | 'file_exists'
  | 'unknown_worker'
  // `snakepit run <script>`: no file at that path
  | 'script_not_found'
  | 'device_not_available'
  | 'no_device'
  // data plane: a payload over maxPayloadBytes; a value the strict serialization policy refuses
  | 'payload_too_large'
  | 'unserializable'
  // data plane: an Arrow table where the optional Arrow package (apache-arrow / pyarrow) is not installed
  | 'arrow_unavailable'
  | 'unknown_event'
  | 'duplicate_handler'
  // pool
  | 'pool_saturated'
  // the host's gRPC endpoint could not listen (grpcHost:grpcPort busy or not allowed)
  | 'host_bind_failed'
  // a pool's `discovery` name did not resolve at start, or none of its addresses could join
  | 'discovery_failed'
  | 'pool_not_started'
  // resize, addWorker, removeWorker on a pool of attached or discovered workers (the host cannot start or stop them)
  | 'pool_not_resizable'
  | 'pool_stopped'
  | 'session_worker_busy'
  | 'session_worker_unavailable'
  | 'reentrant_deadlock'
  | 'circuit_open'
  // timeout
  | 'queue_timeout'
  | 'call_timeout'
  | 'startup_timeout'
  | 'host_tool_timeout'
  // worker
  | 'worker_crashed'
  | 'worker_hung'
  | 'pool_unhealthy'
  | 'worker_start_failed'
  | 'adapter_import'
  // a thread-profile pool's adapter does not declare __thread_safe__ = True (requireThreadSafeAdapter)
  | 'adapter_not_thread_safe'
  | 'protocol_error'
  // a gRPC worker refused the host's token (x-snakepit-token missing or wrong)
  | 'unauthenticated'
  // TLS to an attached worker failed: details.reason says why (untrusted, expired, name_mismatch, ...)
  | 'tls_failed'
  // plaintext gRPC to a non-loopback address without `insecure: true`
  | 'insecure_transport'
  // the worker is draining (SIGTERM): it refused the call without starting it, so it can go elsewhere
  | 'worker_draining'
  | 'aborted'
  | 'cancelled'
  // a gRPC worker refused a pipe `call` frame (a host bug: calls to it go over gRPC)
  | 'wrong_transport'
  // python
  | 'python_error'
  // python: ML errors recognised in the exception message (see python-errors/ml-parser.ts)
  | 'shape_mismatch'
  | 'dtype_mismatch'
  | 'device_mismatch'
  | 'out_of_memory'
  | 'session_restore_failed'
  // host tools
  | 'host_tool_error'
  | 'host_unavailable'
  // Python environment (PackageError)
  | PackageErrorCode;

const BRAND = Symbol.for('snakepit.error');

export interface SnakepitErrorOptions {
  code: ErrorCode;
  category: ErrorCategory;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** Base class of every error Snakepit throws or rejects with. */
export class SnakepitError extends Error {
  readonly code: ErrorCode;
  readonly category: ErrorCategory;
  readonly details: Record<string, unknown>;

  constructor(message: string, options: SnakepitErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.category = options.category;
    this.details = options.details ?? {};
    Object.defineProperty(this, 'name', { value: new.target.name, enumerable: false, configurable: true });
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }

  /**
   * `instanceof` also across two loaded copies of this package (a script run through a loader may
   * get its own): a branded error matches a class of the same name anywhere on its prototype chain.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (!isSnakepitError(value)) return false;
    for (let proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null; proto; proto = Object.getPrototypeOf(proto) as typeof proto) {
      if (proto.constructor?.name === this.name) return true;
    }
    return false;
  }

  /** Plain data form, for `--json` output and logs. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, category: this.category, message: this.message, details: this.details };
  }
}

/** True for any Snakepit error, also across duplicated copies of the package. */
export function isSnakepitError(value: unknown): value is SnakepitError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** Bad input: config, arguments, unknown tool or pool. */
export class ValidationError extends SnakepitError {
  constructor(message: string, code: ErrorCode, details?: Record<string, unknown>, cause?: unknown) {
    super(message, { code, category: 'validation', details, cause });
  }
}

/** A config file or object that does not match the schema. `issues` lists every problem. */
export class ConfigError extends ValidationError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], source?: string, cause?: unknown) {
    const where = source ? ` in ${source}` : '';
    const lines = issues.map((i) => `  - ${i.message}`).join('\n');
    super(`Invalid Snakepit config${where}:\n${lines}`, 'invalid_config', { issues, source }, cause);
    this.issues = issues;
  }
}

/** One config problem: the field path, what was expected, what was given. */
export interface ConfigIssue {
  path: string;
  expected: string;
  received: string;
  message: string;
}

/** Queue full, pool not started or stopped, session worker busy. */
export class PoolError extends SnakepitError {
  constructor(message: string, code: ErrorCode, details?: Record<string, unknown>, cause?: unknown) {
    super(message, { code, category: 'pool', details, cause });
  }
}

/** A deadline passed: queue wait, call time, or start-up. */
export class TimeoutError extends SnakepitError {
  readonly timeoutMs: number;
  constructor(message: string, code: ErrorCode, timeoutMs: number, details?: Record<string, unknown>) {
    super(message, { code, category: 'timeout', details: { ...details, timeoutMs } });
    this.timeoutMs = timeoutMs;
  }
}

/** The worker failed: crashed mid-call, could not start, broke the protocol, or the call was aborted. */
export class WorkerError extends SnakepitError {
  readonly workerId: string | undefined;
  readonly exitCode: number | null | undefined;
  readonly signal: string | null | undefined;
  /** `category`: `grpc_error` for a {@link GrpcError} (a worker failure seen through gRPC). @default 'worker' */
  constructor(
    message: string,
    code: ErrorCode,
    details: Record<string, unknown> & { workerId?: string; exitCode?: number | null; signal?: string | null } = {},
    cause?: unknown,
    category: 'worker' | 'grpc_error' = 'worker',
  ) {
    super(message, { code, category, details, cause });
    this.workerId = details.workerId;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
  }
}

/**
 * A gRPC call to a worker failed at the gRPC level: category `grpc_error` with `grpcStatus`, the
 * status name (`UNAVAILABLE`, `UNAUTHENTICATED`, …), as the original's `Snakepit.Error.grpc_error`.
 * The code says what it means for the call: `worker_crashed` (the worker is unreachable),
 * `unauthenticated` (it refused the host's token) or `protocol_error` (a status Snakepit does not
 * expect). A `WorkerError` too: retries and the crash barrier treat it as the worker failure it is.
 */
export class GrpcError extends WorkerError {
  readonly grpcStatus: string;
  constructor(message: string, code: ErrorCode, grpcStatus: string, details: Record<string, unknown> & { workerId?: string } = {}, cause?: unknown) {
    super(message, code, { ...details, grpcStatus }, cause, 'grpc_error');
    this.grpcStatus = grpcStatus;
  }
}

/** An exception raised in Python, with its class name and traceback. */
export class PythonError extends SnakepitError {
  readonly exceptionType: string;
  readonly pythonTraceback: string;
  constructor(
    message: string,
    info: { exceptionType: string; pythonTraceback: string; code?: ErrorCode; details?: Record<string, unknown> },
  ) {
    super(message, {
      code: info.code ?? 'python_error',
      category: pythonCategory(info.code ?? 'python_error'),
      details: { ...info.details, exceptionType: info.exceptionType },
    });
    this.exceptionType = info.exceptionType;
    this.pythonTraceback = info.pythonTraceback;
  }
}

/** The caller's AbortSignal fired; `reason` is the signal's reason. */
export class AbortError extends SnakepitError {
  constructor(reason: unknown, stage: 'queued' | 'running') {
    super(`The call was aborted while ${stage}`, { code: 'aborted', category: 'worker', details: { stage }, cause: reason });
  }
}

/**
 * A circuit breaker refused the call: it is open (too many failures in a row) or half-open with
 * its probe calls taken. `retryAfterMs` is the time left until the breaker lets a probe through.
 */
export class CircuitOpenError extends SnakepitError {
  readonly retryAfterMs: number;
  constructor(message: string, details: Record<string, unknown> & { retryAfterMs: number }) {
    super(message, { code: 'circuit_open', category: 'pool', details });
    this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * An encoded payload (frame plus shared memory) is over `maxPayloadBytes`. Raised on the host before
 * a call is sent (`side: 'host'`); Python refuses an oversized result the same way before sending it,
 * which arrives as a `PythonError` with the same code and details (`side: 'python'`).
 */
export class PayloadTooLargeError extends ValidationError {
  readonly sizeBytes: number;
  readonly limitBytes: number;
  constructor(sizeBytes: number, limitBytes: number, side: 'host' | 'python') {
    super(`Payload of ${sizeBytes} bytes is over the limit of ${limitBytes} bytes (maxPayloadBytes)`, 'payload_too_large', { sizeBytes, limitBytes, side });
    this.sizeBytes = sizeBytes;
    this.limitBytes = limitBytes;
  }
}

/**
 * An Arrow table met a side without its Arrow library (`code: 'arrow_unavailable'`): `apache-arrow`
 * (an optional peer dependency) on the host, or `pyarrow` in the worker's Python. `details.package`
 * names what to install.
 */
export class ArrowUnavailableError extends ValidationError {
  constructor(message: string, details: { package: 'apache-arrow' | 'pyarrow' } & Record<string, unknown>) {
    super(message, 'arrow_unavailable', details);
  }
}

/**
 * `Hardware.select` could not give the requested device (`device_not_available`), or
 * `Hardware.selectWithFallback` found none of the listed ones (`no_device`).
 */
export class HardwareError extends SnakepitError {
  constructor(message: string, code: 'device_not_available' | 'no_device', details?: Record<string, unknown>) {
    super(message, { code, category: 'validation', details });
  }
}

/** Codes of {@link PackageError}. */
export type PackageErrorCode = 'not_installed' | 'install_failed' | 'version_mismatch' | 'invalid_requirement' | 'python_not_found';

/**
 * The Python environment is not what Snakepit needs: no interpreter, a package missing or at the
 * wrong version, an installer that failed or timed out, a requirement that does not parse.
 * Category `validation`: like a bad config, the user fixes it (usually with `snakepit setup`);
 * `fix` is the one-line remedy the CLI prints.
 */
export class PackageError extends SnakepitError {
  declare readonly code: PackageErrorCode;
  /** What to do about it, one line. */
  readonly fix: string;
  constructor(message: string, code: PackageErrorCode, fix: string, details?: Record<string, unknown>, cause?: unknown) {
    super(message, { code, category: 'validation', details: { ...details, fix }, cause });
    this.fix = fix;
  }
}
