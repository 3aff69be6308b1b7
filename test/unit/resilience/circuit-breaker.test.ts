// Breaker transitions on a fake clock: closed -> open -> half-open -> closed/open, with the events each emits.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortError, CircuitBreaker, CircuitOpenError, isSnakepitError, onResilienceEvent, PoolCircuit, PythonError, TimeoutError, WorkerError } from '../../../src/index.js';

const boom = () => Promise.reject(new WorkerError('crashed', 'worker_crashed'));
const ok = () => Promise.resolve('ok');

async function failTimes(breaker: CircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await expect(breaker.call(boom)).rejects.toMatchObject({ code: 'worker_crashed' });
}

describe('CircuitBreaker', () => {
  let events: [string, unknown, unknown][];
  let off: () => void;
  beforeEach(() => {
    vi.useFakeTimers();
    events = [];
    off = onResilienceEvent('*', (name, measurements, metadata) => events.push([name, measurements, metadata]));
  });
  afterEach(() => {
    off();
    vi.useRealTimers();
  });

  it("has the original's defaults", () => {
    const breaker = new CircuitBreaker();
    expect(breaker.stats()).toMatchObject({ state: 'closed', failureThreshold: 5, resetTimeoutMs: 30_000, halfOpenMaxCalls: 1, failureCount: 0, successCount: 0, lastFailureTime: null });
  });

  it('passes values and errors through while closed, counting them', async () => {
    const breaker = new CircuitBreaker();
    await expect(breaker.call(ok)).resolves.toBe('ok');
    await expect(breaker.call(() => 42)).resolves.toBe(42);
    await failTimes(breaker, 2);
    expect(breaker.stats()).toMatchObject({ state: 'closed', successCount: 2, failureCount: 2, totalFailures: 2, lastFailureTime: Date.now() });
  });

  it('opens after failureThreshold failures in a row and then fails fast without calling', async () => {
    const breaker = new CircuitBreaker({ name: 'ml', failureThreshold: 3 });
    await failTimes(breaker, 3);
    expect(breaker.state).toBe('open');
    const fn = vi.fn(ok);
    const error = await breaker.call(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(isSnakepitError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'circuit_open', category: 'pool', retryAfterMs: 30_000, details: { name: 'ml', state: 'open', failureCount: 3 } });
    expect(breaker.stats().rejectedCount).toBe(1);
    const transitions = events.filter(([name]) => !name.startsWith('circuit_breaker.call.'));
    expect(transitions).toEqual([['circuit_breaker.opened', { failureCount: 3 }, { pool: 'ml', reason: 'failure_threshold' }]]);
    // Each call's own events: three let through and failed, then one refused while open.
    const calls = events.filter(([name]) => name.startsWith('circuit_breaker.call.'));
    expect(calls.map(([name, , metadata]) => [name, metadata])).toEqual([
      ['circuit_breaker.call.allowed', { pool: 'ml', state: 'closed' }],
      ['circuit_breaker.call.failure', { pool: 'ml', error: 'worker_crashed' }],
      ['circuit_breaker.call.allowed', { pool: 'ml', state: 'closed' }],
      ['circuit_breaker.call.failure', { pool: 'ml', error: 'worker_crashed' }],
      ['circuit_breaker.call.allowed', { pool: 'ml', state: 'closed' }],
      ['circuit_breaker.call.failure', { pool: 'ml', error: 'worker_crashed' }],
      ['circuit_breaker.call.rejected', { pool: 'ml', state: 'open' }],
    ]);
    expect((calls[1]![1] as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(0);
  });

  it('counts failures in a row: a success in between resets the count', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3 });
    await failTimes(breaker, 2);
    await breaker.call(ok);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats()).toMatchObject({ failureCount: 2, totalFailures: 4 });
  });

  it('goes half-open after resetTimeoutMs and closes on a successful probe', async () => {
    const breaker = new CircuitBreaker({ name: 'p', failureThreshold: 1, resetTimeoutMs: 1_000 });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(999);
    expect(breaker.state).toBe('open');
    expect(breaker.retryAfterMs()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(breaker.state).toBe('half-open');
    await expect(breaker.call(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().failureCount).toBe(0);
    expect(events.map(([name]) => name)).toEqual([
      'circuit_breaker.call.allowed',
      'circuit_breaker.opened',
      'circuit_breaker.call.failure',
      'circuit_breaker.half_open',
      'circuit_breaker.call.allowed',
      'circuit_breaker.closed',
      'circuit_breaker.call.success',
    ]);
    expect(events[4]![2]).toEqual({ pool: 'p', state: 'half-open' }); // the probe
  });

  it('reopens when the probe fails, for another full resetTimeoutMs', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeoutMs: 1_000 });
    await failTimes(breaker, 2);
    vi.advanceTimersByTime(1_000);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(breaker.retryAfterMs()).toBe(1_000);
    vi.advanceTimersByTime(500);
    await expect(breaker.call(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    const opened = events.filter(([name]) => name === 'circuit_breaker.opened').map(([, , metadata]) => metadata);
    expect(opened).toEqual([
      { pool: undefined, reason: 'failure_threshold' },
      { pool: undefined, reason: 'probe_failed' },
    ]);
  });

  it('lets only halfOpenMaxCalls probes run at once while half-open', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 10, halfOpenMaxCalls: 2 });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(10);
    const gates: (() => void)[] = [];
    const slow = () => new Promise<string>((resolve) => gates.push(() => resolve('probe')));
    const p1 = breaker.call(slow);
    const p2 = breaker.call(slow);
    expect(breaker.stats()).toMatchObject({ state: 'half-open', halfOpenCalls: 2 });
    expect(breaker.allowCall()).toBe(false);
    await expect(breaker.call(ok)).rejects.toMatchObject({ code: 'circuit_open', details: { state: 'half-open' } });
    gates.forEach((open) => open());
    await expect(Promise.all([p1, p2])).resolves.toEqual(['probe', 'probe']);
    expect(breaker.state).toBe('closed');
  });

  it("does not count the caller's abort: it frees the probe slot and changes nothing", async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 10 });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(10);
    await expect(breaker.call(() => Promise.reject(new AbortError('stop', 'running')))).rejects.toMatchObject({ code: 'aborted' });
    expect(breaker.stats()).toMatchObject({ state: 'half-open', halfOpenCalls: 0, totalFailures: 1 });
    await breaker.call(ok);
    expect(breaker.state).toBe('closed');
  });

  it('counts a rejection isFailure rejects as a success', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, isFailure: (e) => !(e instanceof PythonError) });
    await expect(breaker.call(() => Promise.reject(new PythonError('bad input', { exceptionType: 'ValueError', pythonTraceback: '' })))).rejects.toBeInstanceOf(PythonError);
    expect(breaker.stats()).toMatchObject({ state: 'closed', successCount: 1, failureCount: 0 });
  });

  it('ignores outcomes of calls admitted before a transition', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    let release!: () => void;
    const inFlight = breaker.call(() => new Promise<string>((resolve) => (release = () => resolve('late'))));
    await failTimes(breaker, 1);
    release();
    await expect(inFlight).resolves.toBe('late');
    expect(breaker.state).toBe('open');
  });

  it('recordFailure/recordSuccess drive it for work run outside call()', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeoutMs: 5 });
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.allowCall()).toBe(false);
    vi.advanceTimersByTime(5);
    expect(breaker.allowCall()).toBe(true);
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
  });

  it('reset() closes and clears the counters', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    await failTimes(breaker, 1);
    breaker.reset();
    expect(breaker.stats()).toMatchObject({ state: 'closed', failureCount: 0, totalFailures: 0, rejectedCount: 0, lastFailureTime: null });
    expect(events.at(-1)?.[0]).toBe('circuit_breaker.closed');
  });

  it('a listener that throws does not break the breaker', async () => {
    const stop = onResilienceEvent('circuit_breaker.opened', () => {
      throw new Error('bad listener');
    });
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    stop();
  });

  it.each([
    [{ failureThreshold: 0 }, 'failureThreshold'],
    [{ halfOpenMaxCalls: 1.5 }, 'halfOpenMaxCalls'],
    [{ resetTimeoutMs: -1 }, 'resetTimeoutMs'],
  ])('rejects bad options %j with invalid_argument', (options, field) => {
    expect(() => new CircuitBreaker(options)).toThrow(expect.objectContaining({ code: 'invalid_argument', details: expect.objectContaining({ field }) }));
  });
});

describe('PoolCircuit', () => {
  const config = { enabled: true, failureThreshold: 2, resetTimeoutMs: 1_000, halfOpenMaxCalls: 1 };

  it('is a pass-through when disabled', async () => {
    const circuit = new PoolCircuit({ ...config, enabled: false }, 'default');
    expect(circuit.breaker).toBeUndefined();
    expect(circuit.stats()).toBeUndefined();
    for (let i = 0; i < 5; i++) await expect(circuit.run(boom)).rejects.toMatchObject({ code: 'worker_crashed' });
  });

  it.each([
    ['worker_crashed', new WorkerError('x', 'worker_crashed'), true],
    ['worker_hung', new WorkerError('x', 'worker_hung'), true],
    ['call_timeout', new TimeoutError('x', 'call_timeout', 1), true],
    ['queue_timeout', new TimeoutError('x', 'queue_timeout', 1), true],
    ['a Python exception', new PythonError('x', { exceptionType: 'ValueError', pythonTraceback: '' }), false],
    ['cancelled', new WorkerError('x', 'cancelled'), false],
  ])('counts %s as a pool failure: %s', async (_label, error, counts) => {
    const circuit = new PoolCircuit(config, 'default');
    for (let i = 0; i < 2; i++) await expect(circuit.run(() => Promise.reject(error))).rejects.toBe(error);
    expect(circuit.stats()?.state).toBe(counts ? 'open' : 'closed');
  });

  it('opens with the pool name and config, then recovers on its clock', async () => {
    let now = 0;
    const circuit = new PoolCircuit(config, 'ml', { now: () => now });
    for (let i = 0; i < 2; i++) await expect(circuit.run(boom)).rejects.toBeInstanceOf(WorkerError);
    await expect(circuit.run(ok)).rejects.toMatchObject({ code: 'circuit_open', details: { name: 'ml' } });
    now += 1_000;
    await expect(circuit.run(ok)).resolves.toBe('ok');
    expect(circuit.stats()).toMatchObject({ name: 'ml', state: 'closed', failureThreshold: 2 });
  });
});
