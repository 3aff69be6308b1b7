/** The instance's pools by name: which pool a call names, its handle, and counters, health and workers over all pools. */
import { ValidationError } from './errors.js';
import { combineHealth, type InstanceHealth, type PoolHealth } from './pool/health.js';
import type { Pool, PoolStats, WorkerInfo } from './pool/pool.js';
import { sumStats } from './pool/pool-types.js';
import { PoolHandle } from './pool-handle.js';

/** Looks pools up for the facade; the map stays the instance resources' (filled while the instance starts). */
export class PoolDirectory {
  readonly #pools: ReadonlyMap<string, Pool>;
  readonly #handles = new WeakMap<Pool, PoolHandle>();

  constructor(pools: ReadonlyMap<string, Pool>) {
    this.#pools = pools;
  }

  /** Names of the pools. */
  get names(): string[] {
    return [...this.#pools.keys()];
  }

  /** The pool a call names (`name`, else the only pool, else `'default'`), or undefined when there is none such. */
  find(name: string | undefined): Pool | undefined {
    return this.#pools.get(this.#key(name));
  }

  /** The pool a call names; an unknown one throws `unknown_pool` listing the pools. */
  get(name: string | undefined): Pool {
    const key = this.#key(name);
    const pool = this.#pools.get(key);
    if (!pool) {
      throw new ValidationError(`Unknown pool '${key}' (pools: ${this.names.join(', ')})`, 'unknown_pool', { pool: key, available: this.names });
    }
    return pool;
  }

  /** The pool's handle, one per pool. */
  handle(name: string | undefined): PoolHandle {
    const pool = this.get(name);
    let handle = this.#handles.get(pool);
    if (!handle) this.#handles.set(pool, (handle = new PoolHandle(pool)));
    return handle;
  }

  /** Counters of one pool, or summed over all pools. */
  stats(name?: string): PoolStats {
    if (name !== undefined) return this.get(name).stats();
    return sumStats([...this.#pools.values()].map((p) => p.stats()));
  }

  /** Health of one pool, or of all pools combined (worst status) with `pools` per name. */
  health(name?: string): PoolHealth | InstanceHealth {
    if (name !== undefined) return this.get(name).health();
    return combineHealth(Object.fromEntries([...this.#pools].map(([poolName, p]) => [poolName, p.health()])));
  }

  /** Worker snapshots of one pool, or of all pools. */
  listWorkers(name?: string): WorkerInfo[] {
    if (name !== undefined) return this.get(name).listWorkers();
    return [...this.#pools.values()].flatMap((p) => p.listWorkers());
  }

  #key(name: string | undefined): string {
    return name ?? (this.#pools.size === 1 ? this.#pools.keys().next().value! : 'default');
  }
}
