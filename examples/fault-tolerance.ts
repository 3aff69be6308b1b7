// Fault tolerance: `npx snakepit run examples/fault-tolerance.ts --config examples/fault-tolerance.config.ts`.
// Every code block of guides/fault-tolerance.md is a region of this file: typed Python errors,
// deadlines, retries with backoff, circuit breakers, batches, pool health and the events they emit,
// all against the built-in showcase adapter.
import type { Snakepit } from 'snakepit';
import {
  CircuitBreaker,
  CircuitOpenError,
  Executor,
  HealthMonitor,
  OutOfMemoryError,
  PythonKeyError,
  RetryPolicy,
  ShapeMismatchError,
  execute,
  isSnakepitError,
  onResilienceEvent,
} from 'snakepit';

/** Prints a label and a value as JSON, one line each: the test reads these lines. */
const show = (label: string, value: unknown) => console.log(`${label.padEnd(22)} ${JSON.stringify(value)}`);
const codeOf = (error: unknown) => (isSnakepitError(error) ? error.code : String(error));

export default async function main(sp: Snakepit): Promise<void> {
  // #region events
  const offAll = onResilienceEvent('*', (name, measurements) => {
    if (!name.startsWith('circuit_breaker.call.')) show(`  event ${name}`, measurements); // one per call: left out here
  });
  const offOpened = onResilienceEvent('circuit_breaker.opened', ({ failureCount }, { pool }) => {
    console.log(`ALERT breaker ${pool} opened after ${failureCount} failures`);
  });
  // #endregion events

  // #region typed-errors
  try {
    await execute('raise_error', { type: 'KeyError', message: 'user_42' });
  } catch (error) {
    if (error instanceof PythonKeyError) show('python KeyError', { name: error.name, code: error.code, exceptionType: error.exceptionType });
  }
  // #endregion typed-errors

  // #region ml-errors
  const failures = ['mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)', 'CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 1.00 GiB free)'];
  for (const message of failures) {
    try {
      await execute('raise_error', { type: 'RuntimeError', message });
    } catch (error) {
      if (error instanceof ShapeMismatchError) {
        show('shape mismatch', { name: error.name, code: error.code, expected: error.expected, got: error.got, dimension: error.dimension });
      } else if (error instanceof OutOfMemoryError) {
        show('out of memory', { code: error.code, device: error.device, requestedBytes: error.requestedBytes, availableBytes: error.availableBytes });
      } else throw error;
    }
  }
  // #endregion ml-errors

  // #region breaker
  const breaker = new CircuitBreaker({ name: 'showcase', failureThreshold: 2, resetTimeoutMs: 500 });
  // Each call misses its 50 ms deadline: two failures in a row open the circuit,
  // the third call is refused at once, without reaching Python.
  for (let i = 0; i < 3; i++) {
    try {
      await breaker.call(() => execute('sleep', { ms: 1_000 }, { timeoutMs: 50 }));
    } catch (error) {
      if (error instanceof CircuitOpenError) show('refused', { code: error.code, state: breaker.state });
      else show('failed call', { code: codeOf(error) });
    }
  }
  await Executor.delay(breaker.retryAfterMs()); // resetTimeoutMs after the last failure
  show('after reset timeout', breaker.state); // 'half-open': the next call is a probe
  await breaker.call(() => execute('ping'));
  show('after a good probe', breaker.stats().state); // a success closes it
  // #endregion breaker

  // #region retry-policy
  const policy = new RetryPolicy({ maxAttempts: 3, backoffMs: [100, 200, 400] });
  const timedOut = await execute('sleep', { ms: 1_000 }, { timeoutMs: 50 }).catch((error: unknown) => error);
  show('retry call_timeout?', policy.retryForError(timedOut)); // kind 'timeout'
  show('attempts left after 2?', policy.shouldRetry(2));
  show('backoff after 2 (ms)', policy.backoffForAttempt(2));
  // #endregion retry-policy

  // #region timeout
  // A deadline: rejects with TimeoutError (code call_timeout) and aborts the signal,
  // which cancels the Python call.
  try {
    await Executor.executeWithTimeout((signal) => execute('sleep', { ms: 5_000 }, { signal }), { timeoutMs: 200 });
  } catch (error) {
    show('timeout', { code: codeOf(error) });
  }
  // #endregion timeout

  // #region retry
  // The first attempt's own deadline is too short, the second one succeeds.
  const slept = await Executor.executeWithRetry(
    (signal, attempt) => execute<{ slept_ms: number }>('sleep', { ms: 300 }, { signal, timeoutMs: attempt === 1 ? 100 : 10_000 }),
    { maxAttempts: 3, backoffMs: [50, 100], jitter: true },
  );
  show('retried result', { slept_ms: slept.slept_ms });
  // #endregion retry

  // #region protection
  // Retry around a breaker: once it opens, the remaining attempts fail fast.
  const guarded = new CircuitBreaker({ name: 'guarded', failureThreshold: 5 });
  const viaBreaker = await Executor.executeWithCircuitBreaker(guarded, (signal) => execute<{ result: number }>('add', { a: 2, b: 2 }, { signal }));
  const protectedCall = await Executor.executeWithProtection(
    guarded,
    (signal) => execute<{ message: string }>('ping', { message: 'protected' }, { signal, timeoutMs: 5_000 }),
    { maxAttempts: 3, backoffMs: [100, 500, 1_000], jitter: true },
  );
  show('protected calls', [viaBreaker.result, protectedCall.message]);
  // #endregion protection

  // #region batch
  // One result per function, in order, two at a time; a failed item does not reject the batch.
  const results = await Executor.executeBatch(
    [
      (signal: AbortSignal) => execute<{ result: number }>('add', { a: 1, b: 2 }, { signal }),
      (signal: AbortSignal) => execute('raise_error', { type: 'ValueError' }, { signal }),
      (signal: AbortSignal) => execute<{ result: number }>('add', { a: 3, b: 4 }, { signal }),
    ],
    { maxConcurrency: 2, timeoutMs: 10_000 },
  );
  show('batch', results.map((r) => (r.ok ? (r.value as { result: number }).result : codeOf(r.error))));
  // #endregion batch

  // #region health
  const health = new HealthMonitor({ pool: 'default', maxCrashes: 10, crashWindowMs: 60_000 });
  const detach = health.attachToPool(sp.pool('default')); // records every worker exit not asked for
  health.recordCrash('worker-x', { reason: 'segfault' }); // or record one yourself
  show('pool health', { healthy: health.healthy(), crashesInWindow: health.stats().crashesInWindow });
  const { healthy, crashCount, crashReasons } = health.workerHealth('worker-x');
  show('worker-x health', { healthy, crashCount, crashReasons });
  detach();
  health.close();
  // #endregion health

  show('pool breaker config', sp.config.circuitBreaker);
  offOpened();
  offAll();
}
