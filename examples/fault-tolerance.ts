// Fault tolerance: run with `npx snakepit run examples/fault-tolerance.ts` (mirrors guides/fault-tolerance.md).
// Typed Python errors, deadlines, retries with backoff, a circuit breaker, batches and pool health,
// all against the built-in showcase adapter.
import type { Snakepit } from 'snakepit';
import {
  CircuitBreaker,
  Executor,
  HealthMonitor,
  isSnakepitError,
  onResilienceEvent,
  PythonKeyError,
  ShapeMismatchError,
  execute,
} from 'snakepit';

const show = (label: string, value: unknown) => console.log(`${label.padEnd(22)} ${JSON.stringify(value)}`);
const codeOf = (error: unknown) => (isSnakepitError(error) ? error.code : String(error));

export default async function main(sp: Snakepit): Promise<void> {
  // Every resilience event, as telemetry will see them.
  const off = onResilienceEvent('*', (name, measurements) => show(`  event ${name}`, measurements));

  // 1. Python exceptions arrive as classes; ML failures as structured errors.
  try {
    await execute('raise_error', { type: 'KeyError', message: 'user_42' });
  } catch (error) {
    if (error instanceof PythonKeyError) show('python KeyError', { name: error.name, code: error.code, exceptionType: error.exceptionType });
  }
  try {
    await execute('raise_error', { type: 'RuntimeError', message: 'mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)' });
  } catch (error) {
    if (error instanceof ShapeMismatchError) {
      show('shape mismatch', { name: error.name, code: error.code, expected: error.expected, got: error.got, dimension: error.dimension });
    }
  }

  // 2. A deadline: the signal cancels the Python call when the time is up.
  try {
    await Executor.executeWithTimeout((signal) => execute('sleep', { ms: 5_000 }, { signal }), { timeoutMs: 200 });
  } catch (error) {
    show('timeout', { code: codeOf(error) });
  }

  // 3. Retry: the first attempt's own deadline is too short, the second one succeeds.
  const slept = await Executor.executeWithRetry(
    (signal, attempt) => execute<{ slept_ms: number }>('sleep', { ms: 300 }, { signal, timeoutMs: attempt === 1 ? 100 : 10_000 }),
    { maxAttempts: 3, backoffMs: [50, 100], jitter: true },
  );
  show('retried result', { slept_ms: slept.slept_ms });

  // 4. A circuit breaker: two failures open it, calls then fail fast until the reset timeout.
  const breaker = new CircuitBreaker({ name: 'showcase', failureThreshold: 2, resetTimeoutMs: 500 });
  for (let i = 0; i < 2; i++) {
    await breaker.call(() => execute('sleep', { ms: 1_000 }, { timeoutMs: 50 })).catch((error: unknown) => show('failed call', { code: codeOf(error) }));
  }
  show('breaker state', breaker.state);
  await breaker.call(() => execute('ping')).catch((error: unknown) => show('refused', { code: codeOf(error), open: breaker.state === 'open' }));
  await Executor.delay(breaker.retryAfterMs());
  show('after reset timeout', breaker.state);
  await breaker.call(() => execute('ping', { message: 'probe' }));
  show('after a good probe', breaker.stats().state);

  // 5. A batch: per-item results, two at a time.
  const results = await Executor.executeBatch(
    [() => execute<{ result: number }>('add', { a: 1, b: 2 }), () => execute('raise_error', { type: 'ValueError' }), () => execute<{ result: number }>('add', { a: 3, b: 4 })],
    { maxConcurrency: 2, timeoutMs: 10_000 },
  );
  show('batch', results.map((r) => (r.ok ? (r.value as { result: number }).result : codeOf(r.error))));

  // 6. Pool health: crashes (unexpected worker exits) in a rolling window.
  const health = new HealthMonitor({ pool: 'default', maxCrashes: 10, crashWindowMs: 60_000 });
  const detach = health.attachToPool(sp.pool('default'));
  show('pool health', { healthy: health.healthy(), crashesInWindow: health.stats().crashesInWindow });
  detach();
  health.close();
  off();
}
