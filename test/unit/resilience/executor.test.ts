// Executor helpers on fake timers: deadlines, retries with backoff and events, breaker protection, batches, aborts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortError, CircuitBreaker, Executor, onResilienceEvent, RetryPolicy, TimeoutError, WorkerError } from '../../../src/index.js';

const { executeBatch, executeWithCircuitBreaker, executeWithProtection, executeWithRetry, executeWithTimeout } = Executor;
const crash = () => new WorkerError('crashed', 'worker_crashed');
const timeout = () => new TimeoutError('slow', 'call_timeout', 10);
/** Resolves when `signal` aborts, with its reason: work that only ends when told to. */
const untilAborted = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));

describe('Executor', () => {
  let events: [string, unknown][];
  let metadata: unknown[];
  let off: () => void;
  beforeEach(() => {
    vi.useFakeTimers();
    events = [];
    metadata = [];
    off = onResilienceEvent('*', (name, measurements, meta) => {
      events.push([name, measurements]);
      metadata.push(meta);
    });
  });
  afterEach(() => {
    off();
    vi.useRealTimers();
  });

  describe('executeWithTimeout', () => {
    it('resolves with the value in time and leaves no timer', async () => {
      await expect(executeWithTimeout(() => 'v', { timeoutMs: 100 })).resolves.toBe('v');
      expect(vi.getTimerCount()).toBe(0);
    });

    it('rejects with call_timeout and aborts the work signal when the deadline passes', async () => {
      let seen: AbortSignal | undefined;
      const p = executeWithTimeout((signal) => ((seen = signal), untilAborted(signal)), { timeoutMs: 100 });
      const assertion = expect(p).rejects.toMatchObject({ code: 'call_timeout', category: 'timeout', timeoutMs: 100 });
      await vi.advanceTimersByTimeAsync(100);
      await assertion;
      expect(seen?.aborted).toBe(true);
      expect(seen?.reason).toBeInstanceOf(TimeoutError);
    });

    it("rejects with the work's own error", async () => {
      await expect(executeWithTimeout(() => Promise.reject(crash()), { timeoutMs: 100 })).rejects.toMatchObject({ code: 'worker_crashed' });
      await expect(executeWithTimeout(() => { throw crash(); }, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'worker_crashed' });
    });

    it("rejects with AbortError on the caller's abort, before or during the work", async () => {
      const before = new AbortController();
      before.abort('no');
      await expect(executeWithTimeout(() => 'v', { timeoutMs: 100, signal: before.signal })).rejects.toMatchObject({ code: 'aborted', cause: 'no' });
      const during = new AbortController();
      const p = executeWithTimeout((signal) => untilAborted(signal), { timeoutMs: 100, signal: during.signal });
      during.abort('later');
      await expect(p).rejects.toBeInstanceOf(AbortError);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('executeWithRetry', () => {
    it('retries retriable errors with the backoff and emits retry.attempt, retry.backoff and retry.success with its pool', async () => {
      const fn = vi.fn().mockRejectedValueOnce(timeout()).mockRejectedValueOnce(timeout()).mockResolvedValue('done');
      const p = executeWithRetry(fn, { pool: 'ml', operation: 'predict' });
      await vi.advanceTimersByTimeAsync(99);
      expect(fn).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(fn).toHaveBeenCalledTimes(2);
      await vi.advanceTimersByTimeAsync(200);
      await expect(p).resolves.toBe('done');
      expect(fn.mock.calls.map((c) => c[1])).toEqual([1, 2, 3]);
      expect(events).toEqual([
        ['retry.attempt', { attempt: 1, delayMs: 100 }],
        ['retry.backoff', { delayMs: 100 }],
        ['retry.attempt', { attempt: 2, delayMs: 200 }],
        ['retry.backoff', { delayMs: 200 }],
        ['retry.success', { attempts: 3, totalDurationMs: expect.any(Number) }],
      ]);
      expect(metadata[0]).toMatchObject({ pool: 'ml', operation: 'predict' });
      expect(metadata[1]).toEqual({ pool: 'ml', attempt: 1 });
      expect(metadata[4]).toEqual({ pool: 'ml', operation: 'predict' });
    });

    it('gives up after maxAttempts with the last error and emits retry.exhausted', async () => {
      const errors = [timeout(), timeout()];
      const fn = vi.fn().mockRejectedValueOnce(errors[0]).mockRejectedValueOnce(errors[1]);
      const p = executeWithRetry(fn, { maxAttempts: 2, backoffMs: [10] });
      const assertion = expect(p).rejects.toBe(errors[1]);
      await vi.advanceTimersByTimeAsync(10);
      await assertion;
      expect(events.at(-1)).toEqual(['retry.exhausted', { attempts: 2, totalDurationMs: expect.any(Number) }]);
      expect(metadata.at(-1)).toEqual({ pool: undefined, operation: undefined, lastError: errors[1] });
    });

    it("does not retry what the original's execute_with_retry does not (worker crashes by default)", async () => {
      const fn = vi.fn().mockRejectedValue(crash());
      await expect(executeWithRetry(fn)).rejects.toMatchObject({ code: 'worker_crashed' });
      expect(fn).toHaveBeenCalledTimes(1);
      expect(events).toEqual([]);
    });

    it('uses a given policy', async () => {
      const fn = vi.fn().mockRejectedValueOnce(crash()).mockResolvedValue('ok');
      const p = executeWithRetry(fn, { policy: new RetryPolicy({ backoffMs: [5] }) });
      await vi.advanceTimersByTimeAsync(5);
      await expect(p).resolves.toBe('ok');
    });

    it('stops waiting and rejects with AbortError when aborted during a backoff', async () => {
      const controller = new AbortController();
      const fn = vi.fn().mockRejectedValue(timeout());
      const p = executeWithRetry(fn, { signal: controller.signal });
      await vi.advanceTimersByTimeAsync(50);
      controller.abort('enough');
      await expect(p).rejects.toMatchObject({ code: 'aborted', cause: 'enough' });
      expect(fn).toHaveBeenCalledTimes(1);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('circuit breaker helpers', () => {
    it('executeWithCircuitBreaker runs through the breaker', async () => {
      const breaker = new CircuitBreaker({ failureThreshold: 1 });
      await expect(executeWithCircuitBreaker(breaker, () => Promise.reject(crash()))).rejects.toMatchObject({ code: 'worker_crashed' });
      await expect(executeWithCircuitBreaker(breaker, () => 'x')).rejects.toMatchObject({ code: 'circuit_open' });
    });

    it('executeWithProtection stops retrying once the breaker opens', async () => {
      const breaker = new CircuitBreaker({ failureThreshold: 2 });
      const fn = vi.fn().mockRejectedValue(crash());
      const p = executeWithProtection(breaker, fn, { maxAttempts: 5, backoffMs: [10, 10, 10, 10], retriableErrors: ['worker_crash'] });
      const assertion = expect(p).rejects.toMatchObject({ code: 'circuit_open' });
      await vi.advanceTimersByTimeAsync(20);
      await assertion;
      expect(fn).toHaveBeenCalledTimes(2);
      expect(breaker.state).toBe('open');
    });
  });

  describe('executeBatch', () => {
    it('returns one result per function in input order, failures included', async () => {
      const results = await executeBatch<number>([() => 1, () => Promise.reject(crash()), () => { throw timeout(); }, async () => 4]);
      expect(results.map((r) => (r.ok ? r.value : (r.error as WorkerError).code))).toEqual([1, 'worker_crashed', 'call_timeout', 4]);
      expect(vi.getTimerCount()).toBe(0);
      await expect(executeBatch([])).resolves.toEqual([]);
    });

    it('runs at most maxConcurrency at once', async () => {
      let running = 0;
      let peak = 0;
      const gates: (() => void)[] = [];
      const fns = Array.from({ length: 5 }, (_, i) => () => {
        running++;
        peak = Math.max(peak, running);
        return new Promise<number>((resolve) => gates.push(() => (running--, resolve(i))));
      });
      const p = executeBatch(fns, { maxConcurrency: 2 });
      for (let released = 0; released < 5; released++) {
        await vi.waitFor(() => expect(gates.length).toBeGreaterThan(released));
        gates[released]!();
      }
      expect((await p).map((r) => r.ok && r.value)).toEqual([0, 1, 2, 3, 4]);
      expect(peak).toBe(2);
    });

    it('times out unfinished items after timeoutMs and aborts their signal', async () => {
      const signals: AbortSignal[] = [];
      const p = executeBatch<string>([() => 'fast', (signal) => (signals.push(signal), untilAborted(signal)), () => 'queued'], { timeoutMs: 1_000, maxConcurrency: 2 });
      await vi.advanceTimersByTimeAsync(1_000);
      const results = await p;
      expect(results[0]).toEqual({ ok: true, value: 'fast' });
      expect(results[1]).toMatchObject({ ok: false, error: { code: 'call_timeout' } });
      expect(results[2]).toEqual({ ok: true, value: 'queued' });
      expect(signals[0]?.aborted).toBe(true);
    });

    it("rejects with AbortError on the caller's abort", async () => {
      const controller = new AbortController();
      const p = executeBatch([(signal) => untilAborted(signal)], { signal: controller.signal });
      controller.abort();
      await expect(p).rejects.toMatchObject({ code: 'aborted' });
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});
