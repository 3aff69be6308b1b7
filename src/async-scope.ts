/**
 * `AsyncLocalStorage.run` that turns the storage off again once no run of it is in flight.
 *
 * On Node 20 and 22 an AsyncLocalStorage is built on async hooks: its first `run` installs promise
 * hooks for the whole process, and they stay until `disable()`. From then on every promise pays for
 * them, every call's included: one host tool call raised the host's CPU per call from ~4.9 to
 * 5.3-7.2 µs, 16 calls in flight (three alternating rounds). Node 24's storage (AsyncContextFrame)
 * costs nothing while unused, and its `disable()` only clears the current context.
 *
 * For storages whose store only matters while its run is in flight (a host tool serving a blocked
 * Python call): work a run left behind and that outlives it reads no store once the storage is off
 * (or, during a later run, the one it had). Not for `withLevel` (logger.ts), whose level also
 * holds for timers its scope started.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';

const inFlight = new WeakMap<AsyncLocalStorage<unknown>, number>();

/** `storage.run(store, fn)`; when the last run in flight ends (`fn` returned, or its promise settled), the storage is disabled. */
export function runScoped<S, T>(storage: AsyncLocalStorage<S>, store: S, fn: () => T): T {
  const key = storage as AsyncLocalStorage<unknown>;
  inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
  const finish = (): void => {
    const left = (inFlight.get(key) ?? 1) - 1;
    inFlight.set(key, left);
    if (left === 0) storage.disable();
  };
  let result: T;
  try {
    result = storage.run(store, fn);
  } catch (error) {
    finish();
    throw error;
  }
  if (isThenable(result)) result.then(finish, finish);
  else finish();
  return result;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
