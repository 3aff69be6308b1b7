/**
 * The resilience toolkit's events: a tiny typed hook with the original's event names
 * (`[:snakepit, :circuit_breaker, :opened]` is `circuit_breaker.opened` here; the telemetry bus
 * publishes it as `snakepit.circuit_breaker.opened`). Each event carries `measurements`
 * (numbers) and `metadata` (context), the shape telemetry handlers receive. The toolkit stays
 * usable without the bus (and the bus's catalogue takes these types from here).
 */

/** Every event the toolkit emits, with its measurements and metadata. */
export interface ResilienceEventMap {
  /**
   * A breaker opened: `failureCount` failures in a row reached its threshold (`reason:
   * 'failure_threshold'`), or a half-open probe failed (`'probe_failed'`).
   */
  'circuit_breaker.opened': { measurements: { failureCount: number }; metadata: { pool: string | undefined; reason: 'failure_threshold' | 'probe_failed' } };
  /** A breaker closed again: a half-open probe succeeded, or `reset()` was called. */
  'circuit_breaker.closed': { measurements: Record<string, never>; metadata: { pool: string | undefined } };
  /** A breaker let probe calls through after its reset timeout. */
  'circuit_breaker.half_open': { measurements: Record<string, never>; metadata: { pool: string | undefined } };
  /** A call went through the breaker; `state` then: `closed` or `half-open` (a probe). */
  'circuit_breaker.call.allowed': { measurements: Record<string, never>; metadata: { pool: string | undefined; state: CircuitStateName } };
  /** The breaker refused a call (`CircuitOpenError`); `state`: `open`, or `half-open` with its probes taken. */
  'circuit_breaker.call.rejected': { measurements: Record<string, never>; metadata: { pool: string | undefined; state: CircuitStateName } };
  /** A call through the breaker succeeded (or failed in a way that does not count against it). */
  'circuit_breaker.call.success': { measurements: { durationMs: number }; metadata: { pool: string | undefined } };
  /** A call through the breaker failed and counts against it; `error` is its code (or class name). */
  'circuit_breaker.call.failure': { measurements: { durationMs: number }; metadata: { pool: string | undefined; error: string } };
  /** A failed attempt will be retried after `delayMs`; `attempt` is the attempt that failed (1-based). */
  'retry.attempt': { measurements: { attempt: number; delayMs: number }; metadata: RetryMeta & { lastError: unknown } };
  /** The wait before the next attempt begins (`attempt`: the one that failed). */
  'retry.backoff': { measurements: { delayMs: number }; metadata: { pool: string | undefined; attempt: number } };
  /** A retried operation succeeded at attempt `attempts` (1 when the first try did). */
  'retry.success': { measurements: { attempts: number; totalDurationMs: number }; metadata: RetryMeta };
  /** A retriable error came back and no attempts are left. */
  'retry.exhausted': { measurements: { attempts: number; totalDurationMs: number }; metadata: RetryMeta & { lastError: unknown } };
  /** A worker crashed (a HealthMonitor recorded it). */
  'worker.crash': { measurements: Record<string, never>; metadata: { pool: string | undefined; workerId: string; reason?: unknown } };
}

/** A breaker's state as events name it. */
type CircuitStateName = 'closed' | 'open' | 'half-open';

/** What retry events say about the work: the pool and operation (tool) the caller named, if any. */
export type RetryMeta = { pool: string | undefined; operation: string | undefined };

export type ResilienceEventName = keyof ResilienceEventMap;

/** A listener for one event (or, subscribed with `'*'`, for all of them with the name first). */
export type ResilienceListener<N extends ResilienceEventName> = (
  measurements: ResilienceEventMap[N]['measurements'],
  metadata: ResilienceEventMap[N]['metadata'],
) => void;
export type AnyResilienceListener = <N extends ResilienceEventName>(
  name: N,
  measurements: ResilienceEventMap[N]['measurements'],
  metadata: ResilienceEventMap[N]['metadata'],
) => void;

/** The names, for listings (`telemetry.events()` will include them). */
export const RESILIENCE_EVENTS: readonly ResilienceEventName[] = [
  'circuit_breaker.opened',
  'circuit_breaker.closed',
  'circuit_breaker.half_open',
  'circuit_breaker.call.allowed',
  'circuit_breaker.call.rejected',
  'circuit_breaker.call.success',
  'circuit_breaker.call.failure',
  'retry.attempt',
  'retry.backoff',
  'retry.success',
  'retry.exhausted',
  'worker.crash',
];

const listeners = new Map<ResilienceEventName | '*', Set<(...args: never[]) => void>>();
/** A `'*'` listener's gate: the names it wants (the telemetry bus wants those someone listens to). */
const gates = new WeakMap<object, (name: ResilienceEventName) => boolean>();

/**
 * Subscribes to one event, or to all with `'*'` (the listener then gets the name first).
 * Returns the unsubscribe function.
 * @example const off = onResilienceEvent('circuit_breaker.opened', ({ failureCount }, { pool }) => log(pool, failureCount));
 */
export function onResilienceEvent<N extends ResilienceEventName>(name: N, listener: ResilienceListener<N>): () => void;
export function onResilienceEvent(name: '*', listener: AnyResilienceListener, wants?: (name: ResilienceEventName) => boolean): () => void;
export function onResilienceEvent(name: ResilienceEventName | '*', listener: (...args: never[]) => void, wants?: (name: ResilienceEventName) => boolean): () => void {
  let set = listeners.get(name);
  if (!set) listeners.set(name, (set = new Set()));
  set.add(listener);
  if (wants) gates.set(listener, wants);
  return () => {
    set.delete(listener);
  };
}

/**
 * Whether any listener wants `name` now: per-call events (`circuit_breaker.call.*`) are only
 * built when this is true, so a breaker nobody watches pays a lookup per call.
 */
export function resilienceEventWanted(name: ResilienceEventName): boolean {
  if ((listeners.get(name)?.size ?? 0) > 0) return true;
  for (const listener of listeners.get('*') ?? []) if (gates.get(listener)?.(name) ?? true) return true;
  return false;
}

/**
 * Emits an event. A listener that throws is skipped: observing a breaker must never change what
 * the breaker does (the telemetry bus will log and detach such handlers).
 */
export function emitResilienceEvent<N extends ResilienceEventName>(
  name: N,
  measurements: ResilienceEventMap[N]['measurements'],
  metadata: ResilienceEventMap[N]['metadata'],
): void {
  for (const listener of listeners.get(name) ?? []) {
    try {
      (listener as ResilienceListener<N>)(measurements, metadata);
    } catch {
      // see above
    }
  }
  for (const listener of listeners.get('*') ?? []) {
    if (gates.get(listener)?.(name) === false) continue;
    try {
      (listener as AnyResilienceListener)(name, measurements, metadata);
    } catch {
      // see above
    }
  }
}
