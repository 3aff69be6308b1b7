/**
 * The original's `Snakepit.Executor`: timeout, retry, circuit breaker and batch helpers. Every
 * helper takes an AbortSignal and hands one to the work, so a deadline or the caller's abort
 * reaches it (pass it on as `execute(..., { signal })`).
 */
import { performance } from 'node:perf_hooks';
import { AbortError, TimeoutError } from '../errors.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { emitResilienceEvent } from './events.js';
import { RetryPolicy, type RetryPolicyOptions } from './retry-policy.js';
import { positiveInt } from './validate.js';

/** Work the helpers run: gets the signal that says "stop, nobody waits for you any more". */
export type Work<T> = (signal: AbortSignal) => T | PromiseLike<T>;

/** Options of {@link executeWithTimeout}. */
export interface TimeoutOptions {
  /** Deadline in ms (required, as in the original). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Runs `fn` with a deadline: rejects with `TimeoutError` (code `call_timeout`) when it passes,
 * and aborts the signal `fn` got so the work can stop.
 * @example await executeWithTimeout((signal) => sp.execute('slow', {}, { signal }), { timeoutMs: 5_000 });
 */
export function executeWithTimeout<T>(fn: Work<T>, options: TimeoutOptions): Promise<T> {
  const timeoutMs = positiveInt('timeoutMs', options.timeoutMs);
  return guarded<T>(options.signal, ({ signal, fail, succeed, reject }) => {
    const timer = setTimeout(() => fail(new TimeoutError(`Operation timed out after ${timeoutMs} ms`, 'call_timeout', timeoutMs)), timeoutMs);
    return {
      run: () => {
        new Promise<T>((resolve) => resolve(fn(signal))).then(succeed, reject);
      },
      cleanup: () => clearTimeout(timer),
    };
  });
}

/** Options of {@link executeWithRetry}: a policy, or the options to build one. */
export interface RetryOptions extends RetryPolicyOptions {
  /** Use this policy instead of building one from the options. */
  policy?: RetryPolicy;
  signal?: AbortSignal;
  /** The pool the work runs on, for the `retry.*` events' metadata (`pool`). @default undefined */
  pool?: string;
  /** What the work is (a tool name, say), for the `retry.*` events' metadata (`operation`). @default undefined */
  operation?: string;
}

/**
 * The original `execute_with_retry` defaults, which are narrower than `RetryPolicy`'s: only
 * timeouts and unavailability are retried unless you say otherwise (a crashed call may have had
 * effects; retry those explicitly with `retriableErrors`).
 */
export const EXECUTE_WITH_RETRY_DEFAULTS = { maxAttempts: 3, backoffMs: [100, 200, 400], retriableErrors: ['timeout', 'unavailable'], jitter: false } as const;

/**
 * Runs `fn` until it succeeds, the error is not retriable, or attempts run out; waits the
 * policy's backoff between attempts (emitting `retry.attempt` and `retry.backoff`), emits
 * `retry.success` with the attempts it took, and `retry.exhausted` when a retriable error is
 * left with no attempt. Rejects with the last error.
 * @example await executeWithRetry((signal) => sp.execute('fetch', {}, { signal }), { maxAttempts: 3, jitter: true, pool: 'default', operation: 'fetch' });
 */
export async function executeWithRetry<T>(fn: (signal: AbortSignal, attempt: number) => T | PromiseLike<T>, options: RetryOptions = {}): Promise<T> {
  const { policy: given, signal, pool, operation, ...policyOptions } = options;
  const policy = given ?? new RetryPolicy({ ...EXECUTE_WITH_RETRY_DEFAULTS, ...policyOptions });
  const live = signal ?? new AbortController().signal;
  const startedAt = performance.now();
  const meta = { pool, operation };
  for (let attempt = 1; ; attempt++) {
    if (live.aborted) throw new AbortError(live.reason, attempt === 1 ? 'queued' : 'running');
    let value: T;
    try {
      value = await fn(live, attempt);
    } catch (error) {
      if (live.aborted || !policy.retryForError(error)) throw error;
      if (!policy.shouldRetry(attempt)) {
        emitResilienceEvent('retry.exhausted', { attempts: attempt, totalDurationMs: performance.now() - startedAt }, { ...meta, lastError: error });
        throw error;
      }
      const delayMs = policy.backoffForAttempt(attempt);
      emitResilienceEvent('retry.attempt', { attempt, delayMs }, { ...meta, lastError: error });
      emitResilienceEvent('retry.backoff', { delayMs }, { pool, attempt });
      await delay(delayMs, live);
      continue;
    }
    emitResilienceEvent('retry.success', { attempts: attempt, totalDurationMs: performance.now() - startedAt }, meta);
    return value;
  }
}

/** Runs `fn` through `breaker` (`CircuitOpenError` when it is open). */
export function executeWithCircuitBreaker<T>(breaker: CircuitBreaker, fn: Work<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
  const signal = options.signal ?? new AbortController().signal;
  if (signal.aborted) return Promise.reject(new AbortError(signal.reason, 'queued'));
  return breaker.call(() => fn(signal));
}

/**
 * Retry around a circuit breaker: each attempt goes through `breaker`, so a failing service
 * opens it and the remaining attempts fail fast (`circuit_open` is never retried).
 * @example await executeWithProtection(breaker, (signal) => sp.execute('service', p, { signal }), { maxAttempts: 3, backoffMs: [100, 500, 1000] });
 */
export function executeWithProtection<T>(breaker: CircuitBreaker, fn: (signal: AbortSignal, attempt: number) => T | PromiseLike<T>, options: RetryOptions = {}): Promise<T> {
  return executeWithRetry((signal, attempt) => breaker.call(() => fn(signal, attempt)), options);
}

/** One result of {@link executeBatch}, in input order. */
export type BatchResult<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Options of {@link executeBatch}. */
export interface BatchOptions {
  /** Deadline for the whole batch, in ms; work unfinished then gets a `TimeoutError`. @default 30000 */
  timeoutMs?: number;
  /** Work items running at once. @default Infinity */
  maxConcurrency?: number;
  /** Aborting rejects the batch with `AbortError` and aborts the running items. */
  signal?: AbortSignal;
}

/**
 * Runs every function, at most `maxConcurrency` at once, and resolves with one result per
 * function in input order: `{ ok: true, value }` or `{ ok: false, error }`. Never rejects for an
 * item's failure.
 * @example const results = await executeBatch([1, 2, 3].map((id) => (signal) => sp.execute('fetch', { id }, { signal })), { maxConcurrency: 2 });
 */
export function executeBatch<T>(fns: readonly Work<T>[], options: BatchOptions = {}): Promise<BatchResult<T>[]> {
  const timeoutMs = positiveInt('timeoutMs', options.timeoutMs ?? 30_000);
  const maxConcurrency = options.maxConcurrency === undefined || options.maxConcurrency === Infinity ? Infinity : positiveInt('maxConcurrency', options.maxConcurrency);
  return guarded<BatchResult<T>[]>(options.signal, ({ signal, fail, succeed }) => {
    const results: (BatchResult<T> | undefined)[] = fns.map(() => undefined);
    let next = 0;
    let running = 0;
    let done = 0;
    const finish = (i: number, result: BatchResult<T>) => {
      if (results[i] !== undefined || signal.aborted) return;
      results[i] = result;
      done++;
      running--;
      if (done === fns.length) succeed(results as BatchResult<T>[]);
      else pump();
    };
    const pump = () => {
      while (running < maxConcurrency && next < fns.length) {
        const i = next++;
        running++;
        // A synchronous throw is that item's failure, like a rejection.
        new Promise<T>((resolve) => resolve(fns[i]!(signal))).then(
          (value) => finish(i, { ok: true, value }),
          (error: unknown) => finish(i, { ok: false, error }),
        );
      }
    };
    const timer = setTimeout(() => {
      const error = new TimeoutError(`Batch timed out after ${timeoutMs} ms`, 'call_timeout', timeoutMs);
      // The unfinished items time out; the batch itself resolves with every result.
      succeed(results.map((r) => r ?? { ok: false, error }));
      fail(error);
    }, timeoutMs);
    return {
      run: () => {
        if (fns.length === 0) succeed([]);
        else pump();
      },
      cleanup: () => clearTimeout(timer),
    };
  });
}

/** Resolves after `ms`, or rejects with `AbortError` as soon as `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortError(signal.reason, 'queued'));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(signal!.reason, 'queued'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What {@link guarded} hands a helper. */
interface Frame<T> {
  /** The work's signal: aborted by `fail()` and by the caller's abort. */
  signal: AbortSignal;
  /** Rejects with `error` and aborts the work. */
  fail: (error: Error) => void;
  /** Rejects with the work's own error (nothing left to abort). */
  reject: (error: unknown) => void;
  succeed: (value: T) => void;
}

/**
 * The shared frame of the helpers: a child signal for the work, settled once, the caller's
 * abort rejecting with `AbortError` and aborting the work. Settles first, then cleans up.
 */
function guarded<T>(parent: AbortSignal | undefined, setup: (frame: Frame<T>) => { run: () => void; cleanup: () => void }): Promise<T> {
  if (parent?.aborted) return Promise.reject(new AbortError(parent.reason, 'queued'));
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let cleanup = () => {};
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      cleanup();
      parent?.removeEventListener('abort', onAbort);
    };
    const fail = (error: Error) => {
      settle(() => reject(error));
      if (!controller.signal.aborted) controller.abort(error);
    };
    const onAbort = () => fail(new AbortError(parent!.reason, 'running'));
    const frame = setup({
      signal: controller.signal,
      fail,
      reject: (error) => settle(() => reject(error)),
      succeed: (value) => settle(() => resolve(value)),
    });
    cleanup = frame.cleanup;
    parent?.addEventListener('abort', onAbort, { once: true });
    frame.run();
  });
}
