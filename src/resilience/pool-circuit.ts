/**
 * A pool's circuit breaker (config `circuitBreaker`): once the pool keeps failing, its calls fail
 * fast with `circuit_open` instead of queueing for workers that crash or hang. The pool lets it
 * observe each call (`observe()`), like telemetry.
 */
import { POOL_FAILURE_CODES } from '../error-table.js';
import { isSnakepitError } from '../errors.js';
import { combineObservers, isCallbackError, type CallObserver, type Task } from '../pool/task.js';
import { CircuitBreaker, type CircuitBreakerStats } from './circuit-breaker.js';

/** The pool config's `circuitBreaker` section (all fields resolved). */
export interface PoolCircuitConfig {
  readonly enabled: boolean;
  readonly failureThreshold: number;
  readonly resetTimeoutMs: number;
  readonly halfOpenMaxCalls: number;
}

/**
 * Error codes that say "the pool is failing", as opposed to "this call was wrong": worker deaths
 * and hangs, deadlines, an unreachable or unhealthy pool, broken transports (the error table's
 * `poolFailure` rows). A Python exception raised by the tool does not count (the worker answered),
 * nor does bad input, an error thrown by the caller's chunk callback, the caller's own abort or
 * cancellation, or a full queue (load, not failure: `poolMaxQueueSize` already sheds it).
 */
export { POOL_FAILURE_CODES };

/** True for an error that counts against a pool's circuit (see {@link POOL_FAILURE_CODES}). */
export function isPoolFailure(error: unknown): boolean {
  if (!isSnakepitError(error)) return !isCallbackError(error);
  return POOL_FAILURE_CODES.has(error.code) || error.category === 'grpc_error';
}

/**
 * The breaker of one pool, or nothing when `enabled` is false. The pool asks it to `observe()`
 * each call (streams included) and shows `circuit.stats()`.
 * @example
 * const circuit = new PoolCircuit(config.circuitBreaker, 'default');
 * task.observer = circuit.observe(); // throws CircuitOpenError while open
 */
export class PoolCircuit {
  /** The breaker; undefined when the pool's circuit breaker is off. */
  readonly breaker: CircuitBreaker | undefined;

  /** `config` undefined: no breaker (a pass-through). */
  constructor(config: PoolCircuitConfig | undefined, pool: string, options: { now?: () => number } = {}) {
    this.breaker = config?.enabled
      ? new CircuitBreaker({
          name: pool,
          failureThreshold: config.failureThreshold,
          resetTimeoutMs: config.resetTimeoutMs,
          halfOpenMaxCalls: config.halfOpenMaxCalls,
          isFailure: isPoolFailure,
          ...(options.now ? { now: options.now } : {}),
        })
      : undefined;
  }

  /** Runs one call through the breaker (`CircuitOpenError` while open); just runs it when off. */
  run<T>(call: () => Promise<T>): Promise<T> {
    return this.breaker ? this.breaker.call(call) : call();
  }

  /**
   * Makes `watched` (telemetry's observer, if any) and the breaker the task's observers; an open
   * circuit fails the task at once (`circuit_open`), `watched` still told.
   */
  attach(task: Task, watched: CallObserver | undefined): void {
    if (!this.breaker) {
      task.observer = watched;
      return;
    }
    try {
      task.observer = combineObservers(watched, this.observe());
    } catch (error) {
      task.observer = watched;
      task.fail(error as Error);
    }
  }

  /** Lets one call in and watches its outcome; throws `CircuitOpenError` while open; undefined when off. */
  observe(): CallObserver | undefined {
    const breaker = this.breaker;
    if (!breaker) return undefined;
    const ticket = breaker.enter();
    return { settled: (_task, ok, outcome) => breaker.leave(ticket, ok, outcome) };
  }

  /** The breaker's stats, or undefined when off. */
  stats(): CircuitBreakerStats | undefined {
    return this.breaker?.stats();
  }
}
