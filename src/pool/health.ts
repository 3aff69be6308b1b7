/** A pool's health: crash and restart counts, the last failure, and the status they add up to. */
import { isSnakepitError, PoolError } from '../errors.js';
import { describeExit, type CrashInfo } from './crash-barrier.js';
import type { CircuitState } from '../resilience/circuit-breaker.js';

/**
 * - `healthy`: every worker slot has a live worker.
 * - `degraded`: fewer live workers than slots for now (a replacement is starting or backing off),
 *   or the crash barrier removed slots; calls still run.
 * - `unhealthy`: the pool gave up starting replacements (start-up keeps failing) or has no slot
 *   left. With no live worker, calls fail at once with `pool_unhealthy`.
 */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** The last failure a pool saw, with what Python said about it. */
export interface HealthError {
  code: string;
  message: string;
  /** Epoch ms. */
  at: number;
  workerId?: string;
  /** The last stderr lines of a worker that died during start-up. */
  stderr?: string;
  /** The Python traceback of a start-up failure (e.g. the adapter's import error). */
  pythonTraceback?: string;
  /** How the worker died, for crashes. */
  crash?: CrashInfo;
}

/** `pool.health()` / `sp.health(pool)`. */
export interface PoolHealth {
  status: HealthStatus;
  lastError?: HealthError;
  /** Replacement workers started after crashes or failed starts. */
  restarts: number;
  /** Workers that died without the host asking them to. */
  crashes: number;
  /** Worker slots the crash barrier removed for good. */
  removedSlots: number;
  /** Live (ready or busy) workers now. */
  workers: number;
  /** Slots the pool was configured with. */
  size: number;
  /** The state of the pool's circuit breaker; absent when it is off. */
  circuitBreaker?: CircuitState;
}

/** A pool's health bookkeeping (crash and restart counts, the give-up flag, the last failure) behind `PoolHealth`; not to be confused with the standalone `HealthMonitor` (crash rate, the original's API) or a worker's `HeartbeatMonitor` (pings). */
export class PoolHealthState {
  crashes = 0;
  restarts = 0;
  removedSlots = 0;
  /** Set when the pool stopped starting replacements. */
  gaveUp = false;
  lastError: HealthError | undefined;
  #reported: HealthStatus = 'healthy';
  readonly #size: () => number;

  /** `size`: the pool's worker slots, or how to count them when they change (discovered workers). */
  constructor(size: number | (() => number)) {
    this.#size = typeof size === 'number' ? () => size : size;
  }

  get size(): number {
    return this.#size();
  }

  /** The snapshot when the status differs from the last one reported, else undefined. */
  changed(liveWorkers: number): PoolHealth | undefined {
    const health = this.snapshot(liveWorkers);
    if (health.status === this.#reported) return undefined;
    this.#reported = health.status;
    return health;
  }

  /** True when calls must fail at once: unhealthy with no live worker to run them. */
  failFast(anyLive: boolean): boolean {
    return !anyLive && this.status(0) === 'unhealthy';
  }

  /** The `pool_unhealthy` error, carrying the last failure in `details.lastError`. */
  unhealthyError(pool: string): PoolError {
    const last = this.lastError;
    return new PoolError(`Pool ${pool} is unhealthy: no worker is alive and it gave up starting new ones${last ? ` (last error: ${last.message})` : ''}`, 'pool_unhealthy', {
      pool,
      ...(last ? { lastError: last } : {}),
    });
  }

  /** Records a failure as the last error. */
  recordError(error: Error, extra: { workerId?: string | undefined; crash?: CrashInfo } = {}): void {
    const details = isSnakepitError(error) ? error.details : {};
    const text = (key: string) => (typeof details[key] === 'string' && details[key] !== '' ? { [key]: details[key] as string } : {});
    this.lastError = {
      code: isSnakepitError(error) ? error.code : 'worker_crashed',
      message: error.message,
      at: Date.now(),
      ...(extra.workerId === undefined ? {} : { workerId: extra.workerId }),
      ...text('stderr'),
      ...text('pythonTraceback'),
      ...(extra.crash ? { crash: extra.crash } : {}),
    };
  }

  /** Counts a worker death and records it as the last error (`worker_hung` for heartbeat kills). */
  recordCrash(workerId: string, crash: CrashInfo): void {
    this.crashes++;
    this.lastError = {
      code: crash.reason === 'heartbeat' ? 'worker_hung' : 'worker_crashed',
      message: describeExit(workerId, crash),
      at: Date.now(),
      workerId,
      crash,
    };
  }

  status(liveWorkers: number): HealthStatus {
    if (this.gaveUp || this.removedSlots >= this.size) return 'unhealthy';
    return this.removedSlots > 0 || liveWorkers < this.size ? 'degraded' : 'healthy';
  }

  snapshot(liveWorkers: number): PoolHealth {
    return {
      status: this.status(liveWorkers),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      restarts: this.restarts,
      crashes: this.crashes,
      removedSlots: this.removedSlots,
      workers: liveWorkers,
      size: this.size,
    };
  }
}

/** `sp.health()` without a pool: every pool's health, and the worst status over all of them. */
export interface InstanceHealth extends PoolHealth {
  pools: Record<string, PoolHealth>;
}

const SEVERITY: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** The pools' health combined: worst status, summed counts, the most recent last error. */
export function combineHealth(pools: Record<string, PoolHealth>): InstanceHealth {
  const all = Object.values(pools);
  let lastError: HealthError | undefined;
  for (const h of all) if (h.lastError && (!lastError || h.lastError.at > lastError.at)) lastError = h.lastError;
  const sum = (key: 'restarts' | 'crashes' | 'removedSlots' | 'workers' | 'size') => all.reduce((n, h) => n + h[key], 0);
  return {
    status: all.reduce<HealthStatus>((worst, h) => (SEVERITY[h.status] > SEVERITY[worst] ? h.status : worst), 'healthy'),
    ...(lastError ? { lastError } : {}),
    restarts: sum('restarts'),
    crashes: sum('crashes'),
    removedSlots: sum('removedSlots'),
    workers: sum('workers'),
    size: sum('size'),
    pools,
  };
}
