/** The original's `Snakepit.RetryPolicy`: how many attempts, how long between them, which errors. */
import { isSnakepitError } from '../errors.js';
import { fraction, nonNegative, positiveInt } from './validate.js';

/** The original's retriable error atoms. */
export type RetriableKind = 'timeout' | 'unavailable' | 'connection_refused' | 'worker_crash';

/**
 * What each of the original's error atoms means here: the Snakepit error codes (and Node system
 * error codes) it stands for.
 *
 * | kind | codes |
 * |---|---|
 * | `timeout` | `call_timeout` (call deadline; also a gRPC DEADLINE_EXCEEDED), `queue_timeout` (waited too long for a worker) |
 * | `unavailable` | `pool_saturated` (queue full), `pool_unhealthy` (no live worker), `session_worker_unavailable`, `host_unavailable` |
 * | `connection_refused` | Node's `ECONNREFUSED`, `ECONNRESET`, `EPIPE` (a remote worker or service not accepting connections) |
 * | `worker_crash` | `worker_crashed` (died mid-call; also a gRPC UNAVAILABLE), `worker_hung` (killed after missed heartbeats) |
 *
 * Never retried, whatever the list says: the caller's abort (`aborted`) and `circuit_open` (the
 * breaker decides when to try again, not the retry loop).
 */
export const RETRIABLE_KIND_CODES: Readonly<Record<RetriableKind, readonly string[]>> = {
  timeout: ['call_timeout', 'queue_timeout'],
  unavailable: ['pool_saturated', 'pool_unhealthy', 'session_worker_unavailable', 'host_unavailable'],
  connection_refused: ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'],
  worker_crash: ['worker_crashed', 'worker_hung'],
};

const NEVER_RETRIED = new Set(['aborted', 'circuit_open']);

/** Which errors to retry: kinds or codes, `'all'`, or a predicate. */
export type RetriableErrors = readonly (RetriableKind | (string & {}))[] | 'all' | ((error: unknown) => boolean);

/** Options of a {@link RetryPolicy}; defaults are the original's. */
export interface RetryPolicyOptions {
  /** Attempts in all, the first one included. @default 3 */
  maxAttempts?: number;
  /** Delay after failed attempt n is `backoffMs[n - 1]`; past the list, exponential. @default [100, 200, 400, 800, 1600] */
  backoffMs?: readonly number[];
  /** Base of the exponential delay past `backoffMs`: `baseBackoffMs * backoffMultiplier ** (n - 1)`. @default 100 */
  baseBackoffMs?: number;
  /** @default 2 */
  backoffMultiplier?: number;
  /** Cap on any delay, jitter included. @default 30000 */
  maxBackoffMs?: number;
  /** Spread each delay randomly by ± `jitterFactor` of itself (against thundering herds). @default false */
  jitter?: boolean;
  /** @default 0.25 (a 100 ms delay becomes 75-125 ms) */
  jitterFactor?: number;
  /** @default ['timeout', 'unavailable', 'connection_refused', 'worker_crash'] (see {@link RETRIABLE_KIND_CODES}) */
  retriableErrors?: RetriableErrors;
  /** Random source in [0, 1) for jitter. @default Math.random */
  random?: () => number;
}

/** Same defaults as the original. */
export const RETRY_POLICY_DEFAULTS = {
  maxAttempts: 3,
  backoffMs: [100, 200, 400, 800, 1600],
  baseBackoffMs: 100,
  backoffMultiplier: 2,
  maxBackoffMs: 30_000,
  jitter: false,
  jitterFactor: 0.25,
  retriableErrors: ['timeout', 'unavailable', 'connection_refused', 'worker_crash'],
} as const satisfies Required<Omit<RetryPolicyOptions, 'random'>>;

/**
 * A retry policy. Attempts are numbered from 1: after attempt `n` failed, retry if
 * `shouldRetry(n) && retryForError(error)`, waiting `backoffForAttempt(n)` first.
 * @example
 * const policy = new RetryPolicy({ maxAttempts: 3, backoffMs: [100, 200, 400], jitter: true });
 * policy.backoffForAttempt(1); // 75..125
 */
export class RetryPolicy {
  readonly maxAttempts: number;
  readonly backoffMs: readonly number[];
  readonly baseBackoffMs: number;
  readonly backoffMultiplier: number;
  readonly maxBackoffMs: number;
  readonly jitter: boolean;
  readonly jitterFactor: number;
  readonly retriableErrors: RetriableErrors;
  readonly #random: () => number;

  constructor(options: RetryPolicyOptions = {}) {
    const d = RETRY_POLICY_DEFAULTS;
    this.maxAttempts = positiveInt('maxAttempts', options.maxAttempts ?? d.maxAttempts);
    this.backoffMs = Object.freeze((options.backoffMs ?? d.backoffMs).map((ms, i) => nonNegative(`backoffMs[${i}]`, ms)));
    this.baseBackoffMs = nonNegative('baseBackoffMs', options.baseBackoffMs ?? d.baseBackoffMs);
    this.backoffMultiplier = nonNegative('backoffMultiplier', options.backoffMultiplier ?? d.backoffMultiplier);
    this.maxBackoffMs = nonNegative('maxBackoffMs', options.maxBackoffMs ?? d.maxBackoffMs);
    this.jitter = options.jitter ?? d.jitter;
    this.jitterFactor = fraction('jitterFactor', options.jitterFactor ?? d.jitterFactor);
    this.retriableErrors = options.retriableErrors ?? d.retriableErrors;
    this.#random = options.random ?? Math.random;
  }

  /** True while attempt `attempt` (1-based, the one that just failed) leaves attempts to make. */
  shouldRetry(attempt: number): boolean {
    return attempt < this.maxAttempts;
  }

  /**
   * True when `error` is one to retry: its `code` (a Snakepit code or a Node system error code),
   * or a bare string, matches a listed kind or code.
   */
  retryForError(error: unknown): boolean {
    const code = codeOf(error);
    if (code !== undefined && NEVER_RETRIED.has(code)) return false;
    const retriable = this.retriableErrors;
    if (retriable === 'all') return true;
    if (typeof retriable === 'function') return retriable(error);
    if (code === undefined) return false;
    return retriable.some((entry) => entry === code || (RETRIABLE_KIND_CODES[entry as RetriableKind]?.includes(code) ?? false));
  }

  /** The delay in ms after failed attempt `attempt` (1-based), jittered when enabled, capped at `maxBackoffMs`. */
  backoffForAttempt(attempt: number): number {
    const n = Math.max(1, Math.floor(attempt));
    const listed = this.backoffMs[n - 1];
    const base = listed ?? this.baseBackoffMs * this.backoffMultiplier ** (n - 1);
    const delay = this.jitter ? base + (this.#random() * 2 - 1) * base * this.jitterFactor : base;
    return Math.round(Math.min(Math.max(0, delay), this.maxBackoffMs));
  }
}

/** The code to match: a Snakepit error's `code`, a Node system error's `code`, or a bare string. */
function codeOf(error: unknown): string | undefined {
  if (typeof error === 'string') return error;
  if (isSnakepitError(error)) return error.code;
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string') return (error as { code: string }).code;
  return undefined;
}
