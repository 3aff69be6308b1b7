/** One pool as applications see it (`sp.pool(name)`): its events, counters, health, workers, tools and session bindings; the engine stays private. */
import { EventEmitter } from 'node:events';
import type { CallRates } from './pool/call-window.js';
import type { PoolHealth } from './pool/health.js';
import type { RecycleOutcome } from './pool/lifecycle.js';
import type { ResizeOutcome } from './pool/resizer.js';
import type { Pool, PoolEvents, PoolStats, WorkerInfo } from './pool/pool.js';
import type { ToolSpec } from './transport/types.js';

/**
 * A read-mostly view of one pool. Calls go through the instance (`sp.execute(..., { pool })`);
 * this is for watching and managing the pool. Its events are the pool's (`worker:ready`,
 * `worker:exit`, `worker:crash`, `worker:recycled`, `health`, `idle`, ...).
 * @example
 * const web = sp.pool('web');
 * web.on('worker:crash', (worker, crash) => console.warn(worker.id, crash.reason));
 * await web.onIdle();
 */
export class PoolHandle extends EventEmitter<PoolEvents> {
  readonly #pool: Pool;

  /** @internal Built by `Snakepit.pool()`. */
  constructor(pool: Pool) {
    super();
    this.#pool = pool;
    // An event is forwarded from the engine once someone listens for it here (an 'idle' per call otherwise).
    const forwarded = new Set<string | symbol>();
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event === 'newListener' || event === 'removeListener' || forwarded.has(event)) return;
      forwarded.add(event);
      (pool as EventEmitter).on(event, (...args: unknown[]) => (this as EventEmitter).emit(event, ...args));
    });
  }

  /** The pool's name. */
  get name(): string {
    return this.#pool.name;
  }

  /** Resolves once every worker slot has a ready worker; rejects with `startup_timeout` after `timeoutMs`. @default timeoutMs 15000 */
  awaitReady(timeoutMs = 15_000): Promise<void> {
    return this.#pool.awaitReady(timeoutMs);
  }

  /** Resolves when no call is in flight or queued. */
  onIdle(): Promise<void> {
    return this.#pool.onIdle();
  }

  /** Counters and worker counts. */
  stats(): PoolStats {
    return this.#pool.stats();
  }

  /** Calls per second, latency percentiles and errors over the recent window (what `snakepit status` shows). */
  recentCalls(): CallRates {
    return this.#pool.recentCalls();
  }

  /** Status, crash and restart counts, the last failure. */
  health(): PoolHealth {
    return this.#pool.health();
  }

  /** A snapshot of each worker. */
  listWorkers(): WorkerInfo[] {
    return this.#pool.listWorkers();
  }

  /** The tools the workers reported. */
  tools(): ToolSpec[] {
    return this.#pool.tools();
  }

  /** One tool's spec; an unknown name throws `unknown_tool` listing the available ones. */
  describeTool(name: string): ToolSpec {
    return this.#pool.describeTool(name);
  }

  /** Replaces a worker by a fresh one without failing a call (see `Snakepit.recycleWorker`). */
  recycleWorker(workerId: string): Promise<RecycleOutcome> {
    return this.#pool.recycleWorker(workerId);
  }

  /** Grows or shrinks the pool to `size` workers, draining those it lets go (see `Snakepit.resize`). */
  resize(size: number): Promise<ResizeOutcome> {
    return this.#pool.resizer.resize(size);
  }

  /**
   * Starts one more worker (the original's `WorkerSupervisor.start_worker`); resolves with it once it
   * is ready. Attached and discovered pools reject with `pool_not_resizable`.
   */
  addWorker(): Promise<WorkerInfo> {
    return this.#pool.resizer.addWorker();
  }

  /**
   * Lets worker `workerId` go (the original's `stop_worker`): it takes no new call, finishes those it
   * has, then stops, and the pool is one slot smaller; resolves then. A worker that is not a live
   * worker of the pool rejects with `unknown_worker` (listing them); the last one with `invalid_argument`.
   */
  removeWorker(workerId: string): Promise<WorkerInfo> {
    return this.#pool.resizer.removeWorker(workerId);
  }

  /**
   * `startMode: 'fork'`: the next workers fork from a new template, which imports the adapter's code
   * again and runs its `preload()` again; the current template stops once the workers forked from it
   * are gone. Recycle the workers then (`recycleWorker`) to move them over to the new code, as
   * `snakepit run --watch` does. No effect on a pool that spawns its workers.
   */
  renewForkTemplate(): void {
    this.#pool.renewForkTemplate();
  }

  /** The worker a session is bound to, if it has run a call here. */
  sessionWorker(sessionId: string): string | undefined {
    return this.#pool.sessionWorker(sessionId);
  }

  /** Drops a session's worker binding; its next call may go to any worker. */
  releaseSession(sessionId: string): void {
    this.#pool.releaseSession(sessionId);
  }
}
