/** The original's `Snakepit.HealthMonitor`: worker crashes in a rolling window, and whether that is healthy. */
import type { WorkerExit } from '../worker/worker.js';
import type { WorkerInfo } from '../pool/pool-types.js';
import { CrashWindow } from './crash-window.js';
import { emitResilienceEvent } from './events.js';
import { positiveInt } from './validate.js';

/** Options of a {@link HealthMonitor}; defaults are the original's. */
export interface HealthMonitorOptions {
  /** The pool watched, for stats and event metadata. */
  pool?: string;
  /** Crashes within the window that make the pool unhealthy. @default 10 */
  maxCrashes?: number;
  /** Length of the rolling window, in ms. @default 60000 */
  crashWindowMs?: number;
  /** How often crashes older than the window are dropped, in ms (the timer is unref'd). @default 30000 */
  checkIntervalMs?: number;
}

/** Same defaults as the original. */
export const HEALTH_MONITOR_DEFAULTS = { maxCrashes: 10, crashWindowMs: 60_000, checkIntervalMs: 30_000 } as const;

/**
 * Crashes within the window from which one worker is unhealthy, whatever `maxCrashes` is: the
 * original's rule (`worker_health` answers `healthy: crash_count < 3`; its guide shows 5 crashes
 * as unhealthy under the default `max_crashes: 10`).
 */
export const WORKER_UNHEALTHY_CRASHES = 3;

/** Reasons kept per worker: enough to see a pattern, bounded so a crash loop cannot grow memory. */
const MAX_REASONS_PER_WORKER = 10;

/** `stats()`. */
export interface HealthStats {
  pool: string | undefined;
  /** Every crash recorded since creation. */
  totalCrashes: number;
  crashesInWindow: number;
  isHealthy: boolean;
  maxCrashes: number;
  crashWindowMs: number;
  /** Per worker that crashed within the window. */
  workers: Record<string, WorkerHealth>;
}

/** `workerHealth(id)`. */
export interface WorkerHealth {
  /** False once this worker crashed 3 times within the window (the original's fixed rule). */
  healthy: boolean;
  /** Crashes within the window. */
  crashCount: number;
  /** Epoch ms of its last crash within the window, or null. */
  lastCrashTime: number | null;
  /** The `info` of its latest crashes, oldest first (at most 10). */
  crashReasons: unknown[];
}

/** What `attachToPool` needs of a pool: its name and its `worker:exit` event. Read-only use. */
export interface CrashSource {
  readonly name: string;
  on(event: 'worker:exit', listener: (info: WorkerInfo, exit: WorkerExit) => void): unknown;
  off(event: 'worker:exit', listener: (info: WorkerInfo, exit: WorkerExit) => void): unknown;
}

/**
 * Counts worker crashes within a rolling window. Healthy while fewer than `maxCrashes` crashes
 * happened in the last `crashWindowMs`. Feed it with `recordCrash`, or let it listen to a pool
 * with `attachToPool` (an exit the host did not ask for is a crash). Call `close()` when done.
 * @example
 * const health = new HealthMonitor({ pool: 'default', maxCrashes: 10, crashWindowMs: 60_000 });
 * const detach = health.attachToPool(sp.pool('default'));
 * if (!health.healthy()) console.warn('pool unhealthy', health.stats());
 */
export class HealthMonitor {
  readonly pool: string | undefined;
  readonly maxCrashes: number;
  readonly crashWindowMs: number;
  readonly checkIntervalMs: number;
  /** Crash times (epoch ms) per worker. */
  readonly #crashes: CrashWindow<string>;
  /** The latest crash reasons per worker, oldest first. */
  readonly #reasons = new Map<string, unknown[]>();
  #totalCrashes = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: HealthMonitorOptions = {}) {
    const d = HEALTH_MONITOR_DEFAULTS;
    this.pool = options.pool;
    this.maxCrashes = positiveInt('maxCrashes', options.maxCrashes ?? d.maxCrashes);
    this.crashWindowMs = positiveInt('crashWindowMs', options.crashWindowMs ?? d.crashWindowMs);
    this.checkIntervalMs = positiveInt('checkIntervalMs', options.checkIntervalMs ?? d.checkIntervalMs);
    this.#crashes = new CrashWindow(this.crashWindowMs);
    // Only memory is at stake: pruning is also done on every read, so the timer must not keep the process alive.
    this.#timer = setInterval(() => this.#prune(), this.checkIntervalMs);
    this.#timer.unref();
  }

  /** Records a crash of `workerId`; `info` (e.g. `{ reason: 'segfault' }`) is kept among its reasons. */
  recordCrash(workerId: string, info: Record<string, unknown> = {}): void {
    this.#crashes.record(workerId, Date.now());
    let reasons = this.#reasons.get(workerId);
    if (!reasons) this.#reasons.set(workerId, (reasons = []));
    reasons.push(info);
    if (reasons.length > MAX_REASONS_PER_WORKER) reasons.shift();
    this.#totalCrashes++;
    emitResilienceEvent('worker.crash', {}, { pool: this.pool, workerId, ...('reason' in info ? { reason: info.reason } : {}) });
  }

  /** True while the crashes within the window are fewer than `maxCrashes`. */
  healthy(): boolean {
    return this.#crashesInWindow() < this.maxCrashes;
  }

  /** Totals, the window's count and each worker's health. */
  stats(): HealthStats {
    this.#prune();
    const workers: Record<string, WorkerHealth> = {};
    for (const id of this.#crashes.keys()) workers[id] = this.workerHealth(id);
    const crashesInWindow = this.#crashesInWindow();
    return {
      pool: this.pool,
      totalCrashes: this.#totalCrashes,
      crashesInWindow,
      isHealthy: crashesInWindow < this.maxCrashes,
      maxCrashes: this.maxCrashes,
      crashWindowMs: this.crashWindowMs,
      workers,
    };
  }

  /** One worker's health: unhealthy from {@link WORKER_UNHEALTHY_CRASHES} (3) crashes within the window, as in the original. */
  workerHealth(workerId: string): WorkerHealth {
    const crashCount = this.#crashes.count(workerId, Date.now());
    return {
      healthy: crashCount < WORKER_UNHEALTHY_CRASHES,
      crashCount,
      lastCrashTime: this.#crashes.last(workerId) ?? null,
      crashReasons: [...(this.#reasons.get(workerId) ?? [])],
    };
  }

  /**
   * Records the pool's real crashes: every `worker:exit` the host did not ask for. Returns the
   * function that stops listening.
   */
  attachToPool(pool: CrashSource): () => void {
    const onExit = (info: WorkerInfo, exit: WorkerExit) => {
      if (exit.expected) return;
      this.recordCrash(info.id, { pool: pool.name, exitCode: exit.exitCode, signal: exit.signal, reason: exit.reason ?? reasonOf(exit) });
    };
    pool.on('worker:exit', onExit);
    return () => {
      pool.off('worker:exit', onExit);
    };
  }

  /** Stops the pruning timer. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #crashesInWindow(): number {
    return this.#crashes.total(Date.now());
  }

  /** Drops crash times older than the window, and the reasons of workers left with none. */
  #prune(): void {
    this.#crashes.prune(Date.now());
    for (const id of this.#reasons.keys()) if (this.#crashes.last(id) === undefined) this.#reasons.delete(id);
  }
}

function reasonOf(exit: WorkerExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${String(exit.exitCode)}`;
}
