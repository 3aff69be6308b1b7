/**
 * Cancel graces of one worker: a cancelled call that Python does not let go of within its grace
 * gets the worker killed, so a runaway call never keeps capacity. A call still waiting in the
 * worker (pipelined behind running ones) starts its grace only when it starts running.
 */

/** What the graces need to know about the worker's calls. */
export interface GraceHost {
  /** True while call `id` is in flight. */
  has(id: number): boolean;
  /** True when call `id` is running (not waiting behind the worker's capacity). */
  isRunning(id: number): boolean;
  /** Grace over: the call ignored its cancellation. */
  expired(id: number, graceMs: number): void;
}

export class CancelGraces {
  readonly #timers = new Map<number, NodeJS.Timeout>();
  /** Cancelled calls still waiting in the worker: their grace starts when they start. */
  readonly #deferred = new Map<number, number>();

  constructor(private readonly host: GraceHost) {}

  /** True when call `id` was already cancelled. */
  has(id: number): boolean {
    return this.#timers.has(id) || this.#deferred.has(id);
  }

  /** Starts the grace of call `id` now, or when it starts running. */
  start(id: number, graceMs: number): void {
    if (this.host.isRunning(id)) this.#arm(id, graceMs);
    else this.#deferred.set(id, graceMs);
  }

  /** Call `id` ended: no grace for it; waiting ones that now run start theirs. */
  ended(id: number): void {
    const timer = this.#timers.get(id);
    if (timer) {
      clearTimeout(timer);
      this.#timers.delete(id);
    }
    if (this.#deferred.size === 0) return;
    for (const [waiting, graceMs] of this.#deferred) {
      if (!this.host.has(waiting)) this.#deferred.delete(waiting);
      else if (this.host.isRunning(waiting)) {
        this.#deferred.delete(waiting);
        this.#arm(waiting, graceMs);
      }
    }
  }

  /** The worker is gone: no grace can expire. */
  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#deferred.clear();
  }

  #arm(id: number, graceMs: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(id);
      this.host.expired(id, graceMs);
    }, graceMs);
    timer.unref();
    this.#timers.set(id, timer);
  }
}
