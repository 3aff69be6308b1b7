// RetryPolicy: attempts, backoff (listed, exponential, capped), jitter bounds, and which errors are retried.
import { describe, expect, it } from 'vitest';
import { AbortError, CircuitOpenError, PoolError, PythonError, RetryPolicy, TimeoutError, WorkerError } from '../../../src/index.js';

describe('RetryPolicy', () => {
  it("has the original's defaults", () => {
    expect(new RetryPolicy()).toMatchObject({
      maxAttempts: 3,
      backoffMs: [100, 200, 400, 800, 1600],
      baseBackoffMs: 100,
      backoffMultiplier: 2,
      maxBackoffMs: 30_000,
      jitter: false,
      jitterFactor: 0.25,
      retriableErrors: ['timeout', 'unavailable', 'connection_refused', 'worker_crash'],
    });
  });

  it.each([
    [1, true],
    [2, true],
    [3, false],
    [4, false],
  ])('shouldRetry(%i) with 3 attempts is %s', (attempt, expected) => {
    expect(new RetryPolicy().shouldRetry(attempt)).toBe(expected);
  });

  it.each([
    [1, 100],
    [3, 400],
    [5, 1600],
    // past the list: baseBackoffMs * multiplier ** (attempt - 1)
    [6, 3200],
    [8, 12_800],
    // capped
    [12, 30_000],
  ])('backoffForAttempt(%i) is %i ms', (attempt, ms) => {
    expect(new RetryPolicy().backoffForAttempt(attempt)).toBe(ms);
  });

  it('is purely exponential with an empty list', () => {
    const policy = new RetryPolicy({ backoffMs: [], baseBackoffMs: 50, backoffMultiplier: 3, maxBackoffMs: 1_000 });
    expect([1, 2, 3, 4, 5].map((n) => policy.backoffForAttempt(n))).toEqual([50, 150, 450, 1_000, 1_000]);
  });

  it.each([
    [0, 75],
    [0.5, 100],
    [0.999_999, 125],
  ])('jitter with random()=%f gives %i ms for a 100 ms delay', (random, ms) => {
    expect(new RetryPolicy({ jitter: true, random: () => random }).backoffForAttempt(1)).toBe(ms);
  });

  it('keeps jittered delays within ±jitterFactor and under the cap', () => {
    const policy = new RetryPolicy({ jitter: true, jitterFactor: 0.5, backoffMs: [1_000, 40_000] });
    for (let i = 0; i < 500; i++) {
      const first = policy.backoffForAttempt(1);
      expect(first).toBeGreaterThanOrEqual(500);
      expect(first).toBeLessThanOrEqual(1_500);
      expect(policy.backoffForAttempt(2)).toBeLessThanOrEqual(30_000);
    }
  });

  const connRefused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:50051'), { code: 'ECONNREFUSED' });

  it.each([
    ['call_timeout', new TimeoutError('t', 'call_timeout', 10), true],
    ['queue_timeout', new TimeoutError('t', 'queue_timeout', 10), true],
    ['pool_saturated', new PoolError('p', 'pool_saturated'), true],
    ['pool_unhealthy', new WorkerError('w', 'pool_unhealthy'), true],
    ['worker_crashed', new WorkerError('w', 'worker_crashed'), true],
    ['worker_hung', new WorkerError('w', 'worker_hung'), true],
    ['ECONNREFUSED', connRefused, true],
    ["the original's atom 'timeout'", 'timeout', true],
    ['a Python exception', new PythonError('p', { exceptionType: 'ValueError', pythonTraceback: '' }), false],
    ['startup_timeout', new TimeoutError('t', 'startup_timeout', 10), false],
    ['pool_stopped', new PoolError('p', 'pool_stopped'), false],
    ['a plain Error', new Error('x'), false],
    ['circuit_open', new CircuitOpenError('open', { retryAfterMs: 1 }), false],
    ['aborted', new AbortError('stop', 'running'), false],
  ])('retryForError(%s) is %s by default', (_label, error, expected) => {
    expect(new RetryPolicy().retryForError(error)).toBe(expected);
  });

  it('takes kinds, codes, all or a predicate', () => {
    const python = new PythonError('p', { exceptionType: 'ValueError', pythonTraceback: '' });
    expect(new RetryPolicy({ retriableErrors: ['timeout'] }).retryForError(new WorkerError('w', 'worker_crashed'))).toBe(false);
    expect(new RetryPolicy({ retriableErrors: ['python_error'] }).retryForError(python)).toBe(true);
    expect(new RetryPolicy({ retriableErrors: 'all' }).retryForError(new Error('x'))).toBe(true);
    expect(new RetryPolicy({ retriableErrors: 'all' }).retryForError(new AbortError('stop', 'queued'))).toBe(false);
    expect(new RetryPolicy({ retriableErrors: (e) => e === python }).retryForError(python)).toBe(true);
  });

  it.each([
    [{ maxAttempts: 0 }, 'maxAttempts'],
    [{ backoffMs: [100, -1] }, 'backoffMs[1]'],
    [{ jitterFactor: 1.5 }, 'jitterFactor'],
  ])('rejects bad options %j with invalid_argument', (options, field) => {
    expect(() => new RetryPolicy(options)).toThrow(expect.objectContaining({ code: 'invalid_argument', details: expect.objectContaining({ field }) }));
  });
});
