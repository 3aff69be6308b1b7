/**
 * The resilience toolkit's events, until the telemetry bus exists: a tiny typed hook with the
 * original's event names (`[:snakepit, :circuit_breaker, :opened]` is `circuit_breaker.opened`
 * here; the bus will publish it as `snakepit.circuit_breaker.opened`). Each event carries
 * `measurements` (numbers) and `metadata` (context), the shape telemetry handlers receive.
 */

/** Every event the toolkit emits, with its measurements and metadata. */
export interface ResilienceEventMap {
  /** A breaker opened: `failureCount` failures in a row reached its threshold (or a half-open probe failed). */
  'circuit_breaker.opened': { measurements: { failureCount: number }; metadata: { pool: string | undefined } };
  /** A breaker closed again: a half-open probe succeeded, or `reset()` was called. */
  'circuit_breaker.closed': { measurements: Record<string, never>; metadata: { pool: string | undefined } };
  /** A breaker let probe calls through after its reset timeout (not in the original's guide table). */
  'circuit_breaker.half_open': { measurements: Record<string, never>; metadata: { pool: string | undefined } };
  /** A failed attempt will be retried after `delayMs`; `attempt` is the attempt that failed (1-based). */
  'retry.attempt': { measurements: { attempt: number; delayMs: number }; metadata: { lastError: unknown } };
  /** A retriable error came back and no attempts are left. */
  'retry.exhausted': { measurements: { attempts: number }; metadata: { lastError: unknown } };
  /** A worker crashed (a HealthMonitor recorded it). */
  'worker.crash': { measurements: Record<string, never>; metadata: { pool: string | undefined; workerId: string; reason?: unknown } };
}

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
  'retry.attempt',
  'retry.exhausted',
  'worker.crash',
];

const listeners = new Map<ResilienceEventName | '*', Set<(...args: never[]) => void>>();

/**
 * Subscribes to one event, or to all with `'*'` (the listener then gets the name first).
 * Returns the unsubscribe function.
 * @example const off = onResilienceEvent('circuit_breaker.opened', ({ failureCount }, { pool }) => log(pool, failureCount));
 */
export function onResilienceEvent<N extends ResilienceEventName>(name: N, listener: ResilienceListener<N>): () => void;
export function onResilienceEvent(name: '*', listener: AnyResilienceListener): () => void;
export function onResilienceEvent(name: ResilienceEventName | '*', listener: (...args: never[]) => void): () => void {
  let set = listeners.get(name);
  if (!set) listeners.set(name, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
  };
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
    try {
      (listener as AnyResilienceListener)(name, measurements, metadata);
    } catch {
      // see above
    }
  }
}
