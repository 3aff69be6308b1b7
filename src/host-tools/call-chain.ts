/**
 * Which workers are blocked in the current chain of calls. A host tool runs while the Python call
 * that called it still holds its worker; if that tool calls `execute` again, the pool must not
 * queue the inner call behind the outer one on the same worker (a pool of one would deadlock).
 * AsyncLocalStorage carries the chain through the tool's awaits without any API change.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { runScoped } from '../async-scope.js';

const chain = new AsyncLocalStorage<ReadonlySet<object>>();

/** Runs `fn` (a host tool serving a call on `worker`) with `worker` added to the blocked chain. */
export function runBlocking<T>(worker: object, fn: () => T): T {
  const outer = chain.getStore();
  const blocked = new Set(outer);
  blocked.add(worker);
  // Off again once no host tool runs: on Node 20 an enabled storage slows every promise (async-scope.ts).
  return runScoped(chain, blocked as ReadonlySet<object>, fn);
}

/** Workers blocked by the calls this code runs inside of (undefined outside any host tool). */
export function blockedWorkers(): ReadonlySet<object> | undefined {
  return chain.getStore();
}
