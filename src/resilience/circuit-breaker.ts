/** The circuit breaker of the original (`Snakepit.CircuitBreaker`): closed, open, half-open. */
import { performance } from 'node:perf_hooks';
import { CIRCUIT_BREAKER_CONFIG_DEFAULTS } from '../config/schema.js';
import { CircuitOpenError, isSnakepitError } from '../errors.js';
import { emitResilienceEvent, resilienceEventWanted } from './events.js';
import { nonNegative, positiveInt } from './validate.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options of a {@link CircuitBreaker}; defaults are the original's. */
export interface CircuitBreakerOptions {
  /** Shown in errors and in event metadata (`pool`). */
  name?: string;
  /** Failures in a row that open the circuit. @default 5 */
  failureThreshold?: number;
  /** How long the circuit stays open before it lets a probe through, in ms. @default 30000 */
  resetTimeoutMs?: number;
  /** Probe calls allowed at once while half-open. @default 1 */
  halfOpenMaxCalls?: number;
  /**
   * Which rejections count as failures. @default every rejection except the caller's abort
   * (`code: 'aborted'`, or an `AbortError`), which counts as neither.
   * A rejection this returns false for counts as a success: the service answered.
   */
  isFailure?: (error: unknown) => boolean;
  /** Clock, in epoch ms. @default Date.now (vitest's fake timers drive it too) */
  now?: () => number;
}

/** `stats()`: the original's keys, camelCased, plus a few counters. */
export interface CircuitBreakerStats {
  name: string | undefined;
  state: CircuitState;
  /** Failures in a row (reset by a success). */
  failureCount: number;
  successCount: number;
  /** Every failure since creation or `reset()`. */
  totalFailures: number;
  /** Calls refused with `CircuitOpenError`. */
  rejectedCount: number;
  failureThreshold: number;
  resetTimeoutMs: number;
  halfOpenMaxCalls: number;
  /** Probe calls in flight while half-open. */
  halfOpenCalls: number;
  /** Epoch ms of the last failure, or null. */
  lastFailureTime: number | null;
}

const { enabled: _enabled, ...breakerDefaults } = CIRCUIT_BREAKER_CONFIG_DEFAULTS;
/** Same defaults as the original: the config schema's `circuitBreaker` ones. */
export const CIRCUIT_BREAKER_DEFAULTS = Object.freeze(breakerDefaults);

/** A call let in by `CircuitBreaker.enter()`: the epoch it was admitted in, whether it is a probe, when it started (when timed). */
export interface CircuitTicket {
  readonly epoch: number;
  readonly probe: boolean;
  startedAt?: number;
}

/** True for the caller's own cancellation: neither a failure nor a success of the service. */
export function isAbort(error: unknown): boolean {
  if (isSnakepitError(error)) return error.code === 'aborted';
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * Stops calling a failing service. Closed: calls run; `failureThreshold` failures in a row open
 * it. Open: calls fail at once with `CircuitOpenError` until `resetTimeoutMs` after the last
 * failure. Half-open: up to `halfOpenMaxCalls` probe calls run; a success closes the circuit, a
 * failure opens it again. Time is read from the clock (`Date.now()`) when a call arrives (no timers), so an
 * idle breaker holds nothing and fake timers drive it in tests.
 * @example
 * const breaker = new CircuitBreaker({ name: 'ml', failureThreshold: 3, resetTimeoutMs: 10_000 });
 * const result = await breaker.call(() => sp.execute('predict', { x }));
 */
export class CircuitBreaker {
  readonly name: string | undefined;
  readonly failureThreshold: number;
  readonly resetTimeoutMs: number;
  readonly halfOpenMaxCalls: number;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #now: () => number;
  #state: CircuitState = 'closed';
  #failureCount = 0;
  #successCount = 0;
  #totalFailures = 0;
  #rejectedCount = 0;
  #halfOpenCalls = 0;
  #lastFailureTime: number | null = null;
  /** Bumped by every transition: an outcome of a call admitted in an earlier epoch is stale. */
  #epoch = 0;

  constructor(options: CircuitBreakerOptions = {}) {
    this.name = options.name;
    this.failureThreshold = positiveInt('failureThreshold', options.failureThreshold ?? CIRCUIT_BREAKER_DEFAULTS.failureThreshold);
    this.resetTimeoutMs = nonNegative('resetTimeoutMs', options.resetTimeoutMs ?? CIRCUIT_BREAKER_DEFAULTS.resetTimeoutMs);
    this.halfOpenMaxCalls = positiveInt('halfOpenMaxCalls', options.halfOpenMaxCalls ?? CIRCUIT_BREAKER_DEFAULTS.halfOpenMaxCalls);
    this.#isFailure = options.isFailure ?? (() => true);
    this.#now = options.now ?? (() => Date.now());
  }

  /** The state now; an open circuit whose reset timeout has passed reads as half-open. */
  get state(): CircuitState {
    this.#refresh();
    return this.#state;
  }

  /**
   * Runs `fn` through the breaker. Rejects with `CircuitOpenError` (code `circuit_open`) without
   * calling `fn` while the circuit is open; otherwise settles as `fn` does and records the outcome.
   */
  async call<T>(fn: () => T | PromiseLike<T>): Promise<T> {
    const ticket = this.enter();
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      this.leave(ticket, false, error);
      throw error;
    }
    this.leave(ticket, true);
    return value;
  }

  /**
   * Lets one call in (taking a probe slot while half-open) or throws `CircuitOpenError`. Pair it
   * with `leave(ticket, ...)` when the call ends: `call()` for work that is not a promise of yours.
   */
  enter(): CircuitTicket {
    const ticket = this.#admit();
    if (resilienceEventWanted('circuit_breaker.call.allowed')) emitResilienceEvent('circuit_breaker.call.allowed', {}, { pool: this.name, state: ticket.probe ? 'half-open' : 'closed' });
    // Timed only for someone listening: the breaker sits on every call of a pool that has one.
    if (resilienceEventWanted('circuit_breaker.call.success') || resilienceEventWanted('circuit_breaker.call.failure')) ticket.startedAt = performance.now();
    return ticket;
  }

  /** Records the outcome of a call let in by `enter()`; the caller's own abort counts as neither. */
  leave(ticket: CircuitTicket, ok: boolean, error?: unknown): void {
    const { startedAt } = ticket;
    if (!ok && isAbort(error)) return this.#release(ticket);
    if (!ok && this.#isFailure(error)) {
      this.#failure(ticket);
      if (startedAt !== undefined) this.#callEvent('circuit_breaker.call.failure', startedAt, error);
      return;
    }
    this.#success(ticket);
    if (startedAt !== undefined) this.#callEvent('circuit_breaker.call.success', startedAt);
  }

  #callEvent(name: 'circuit_breaker.call.success' | 'circuit_breaker.call.failure', startedAt: number, error?: unknown): void {
    const durationMs = performance.now() - startedAt;
    if (name === 'circuit_breaker.call.success') return emitResilienceEvent(name, { durationMs }, { pool: this.name });
    const e = error as { code?: unknown; name?: unknown } | null;
    emitResilienceEvent(name, { durationMs }, { pool: this.name, error: typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : String(error) });
  }

  /**
   * Whether a call would be let through now (the original's `allow_call?`). Takes no probe slot:
   * use `call()` to run work.
   */
  allowCall(): boolean {
    this.#refresh();
    return this.#state === 'closed' || (this.#state === 'half-open' && this.#halfOpenCalls < this.halfOpenMaxCalls);
  }

  /** Records a success of work run outside `call()`. */
  recordSuccess(): void {
    this.#success(undefined);
  }

  /** Records a failure of work run outside `call()`. */
  recordFailure(): void {
    this.#failure(undefined);
  }

  /** Closes the circuit and clears the counters. */
  reset(): void {
    const wasClosed = this.#state === 'closed';
    this.#epoch++;
    this.#state = 'closed';
    this.#failureCount = 0;
    this.#successCount = 0;
    this.#totalFailures = 0;
    this.#rejectedCount = 0;
    this.#halfOpenCalls = 0;
    this.#lastFailureTime = null;
    if (!wasClosed) emitResilienceEvent('circuit_breaker.closed', {}, { pool: this.name });
  }

  /** Counters and settings, as the original's `stats/1`. */
  stats(): CircuitBreakerStats {
    this.#refresh();
    return {
      name: this.name,
      state: this.#state,
      failureCount: this.#failureCount,
      successCount: this.#successCount,
      totalFailures: this.#totalFailures,
      rejectedCount: this.#rejectedCount,
      failureThreshold: this.failureThreshold,
      resetTimeoutMs: this.resetTimeoutMs,
      halfOpenMaxCalls: this.halfOpenMaxCalls,
      halfOpenCalls: this.#halfOpenCalls,
      lastFailureTime: this.#lastFailureTime,
    };
  }

  /** Ms until an open circuit lets a probe through (0 when it would now). */
  retryAfterMs(): number {
    if (this.#state !== 'open' || this.#lastFailureTime === null) return 0;
    return Math.max(0, this.#lastFailureTime + this.resetTimeoutMs - this.#now());
  }

  /** Takes a slot or throws. The ticket ties the outcome to the epoch it was admitted in. */
  #admit(): CircuitTicket {
    this.#refresh();
    if (this.#state === 'closed') return { epoch: this.#epoch, probe: false };
    if (this.#state === 'half-open' && this.#halfOpenCalls < this.halfOpenMaxCalls) {
      this.#halfOpenCalls++;
      return { epoch: this.#epoch, probe: true };
    }
    this.#rejectedCount++;
    if (resilienceEventWanted('circuit_breaker.call.rejected')) emitResilienceEvent('circuit_breaker.call.rejected', {}, { pool: this.name, state: this.#state });
    const retryAfterMs = this.retryAfterMs();
    const what = this.#state === 'open' ? 'open' : 'half-open with its probe calls in flight';
    throw new CircuitOpenError(`Circuit${this.name === undefined ? '' : ` ${this.name}`} is ${what}; calls fail fast`, {
      ...(this.name === undefined ? {} : { name: this.name }),
      state: this.#state,
      failureCount: this.#failureCount,
      retryAfterMs,
    });
  }

  #success(ticket: CircuitTicket | undefined): void {
    if (ticket && ticket.epoch !== this.#epoch) return;
    this.#successCount++;
    this.#failureCount = 0;
    if (this.#state === 'half-open') this.#transition('closed');
  }

  #failure(ticket: CircuitTicket | undefined): void {
    if (ticket && ticket.epoch !== this.#epoch) return;
    this.#failureCount++;
    this.#totalFailures++;
    this.#lastFailureTime = this.#now();
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#failureCount >= this.failureThreshold)) this.#transition('open');
  }

  #release(ticket: CircuitTicket): void {
    if (ticket.probe && ticket.epoch === this.#epoch) this.#halfOpenCalls--;
  }

  /** Open -> half-open once the reset timeout has passed (checked lazily, no timer). */
  #refresh(): void {
    if (this.#state === 'open' && this.retryAfterMs() === 0) this.#transition('half-open');
  }

  #transition(to: CircuitState): void {
    const from = this.#state;
    this.#state = to;
    this.#epoch++;
    this.#halfOpenCalls = 0;
    if (to === 'closed') this.#failureCount = 0;
    const metadata = { pool: this.name };
    if (to === 'open') emitResilienceEvent('circuit_breaker.opened', { failureCount: this.#failureCount }, { ...metadata, reason: from === 'half-open' ? 'probe_failed' : 'failure_threshold' });
    else if (to === 'closed') emitResilienceEvent('circuit_breaker.closed', {}, metadata);
    else emitResilienceEvent('circuit_breaker.half_open', {}, metadata);
  }
}
