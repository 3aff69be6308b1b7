/**
 * Resizing a running pool of spawned workers (`resize`, `addWorker`, `removeWorker`): new workers
 * start in batches as at start-up; removed ones stop taking calls, finish those they have, then stop.
 */
import { PoolError, ValidationError } from '../errors.js';
import type { Worker } from '../worker/worker.js';
import { isLive } from './crash-barrier.js';
import { whenDrained, type LifecycleManager } from './lifecycle.js';
import type { Replacements } from './replacements.js';
import { toInfo, type WorkerInfo } from './pool-types.js';
import { startInBatches } from './worker-ops.js';
import { liveWorker } from './worker-lookup.js';
import type { WorkerSlots } from './worker-slots.js';

/** What a resize did: the slot count before and after, the workers it started and those it let go. */
export interface ResizeOutcome {
  pool: string;
  from: number;
  to: number;
  /** Ids of the workers started (ready now). */
  added: string[];
  /** Ids of the workers let go (stopped now, after finishing their calls). */
  removed: string[];
}

/** What the resizer asks of its pool. */
export interface ResizeHooks {
  readonly name: string;
  readonly slots: WorkerSlots;
  /** Start-up batches, and the stop grace of a removed worker. */
  readonly settings: { startupBatchSize: number; startupBatchDelayMs: number; gracefulShutdownTimeoutMs: number };
  /** Undefined while the pool runs, else the error a resize gets (not started, stopping). */
  refusal(): Error | undefined;
  workers(): readonly Worker[];
  /** The pool's restarts after crashes: slots whose replacement is waiting or starting. */
  readonly replacements: Pick<Replacements, 'pendingSlots'>;
  /** The pool's recycling: a slot being recycled gets its new worker by itself. */
  readonly lifecycle: Pick<LifecycleManager, 'isRecycling' | 'settled'>;
  /** Starts a worker in `slot`; resolves once it is ready. */
  spawn(slot: number): Promise<Worker>;
  /** `worker`, let go, takes no new call from now on. */
  draining(worker: Worker): void;
  /** The slot count changed (slots the crash barrier removed are forgotten): health follows. */
  resized(): void;
}

/** Resizes one pool; resizes run one after another. */
export class Resizer {
  readonly #hooks: ResizeHooks;
  #last: Promise<unknown> = Promise.resolve();

  constructor(hooks: ResizeHooks) {
    this.#hooks = hooks;
  }

  /** Grows or shrinks the pool to `size` serving slots. */
  resize(size: number): Promise<ResizeOutcome> {
    if (!Number.isInteger(size) || size < 1) {
      return Promise.reject(new ValidationError(`Expected the size of pool ${this.#hooks.name} to be an integer >= 1, got ${String(size)}`, 'invalid_argument', { pool: this.#hooks.name, size }));
    }
    return this.#queued(() => this.#resizeTo(size));
  }

  /** Starts one more worker; resolves with it once it is ready. */
  addWorker(): Promise<WorkerInfo> {
    return this.#queued(async () => {
      const [id] = (await this.#grow(1)).added;
      return toInfo(this.#hooks.workers().find((w) => w.id === id)!);
    });
  }

  /** Lets `workerId` go: it takes no new call, finishes those it has, then stops; the pool is one slot smaller. */
  removeWorker(workerId: string): Promise<WorkerInfo> {
    return this.#queued(async () => {
      const hooks = this.#hooks;
      const worker = liveWorker(hooks.name, workerId, hooks.workers());
      const from = this.#liveSlots().size;
      if (from <= 1) throw new ValidationError(`Pool ${hooks.name} has a single worker: it cannot be removed (stop the pool instead)`, 'invalid_argument', { pool: hooks.name, workerId });
      await this.#letGo([hooks.slots.slotOf(worker)], from - 1);
      return toInfo(worker);
    });
  }

  /** Runs `step` after the resizes before it; a refused pool (not running, not spawned) rejects at once. */
  #queued<T>(step: () => Promise<T>): Promise<T> {
    const refused = this.#refusal();
    if (refused) return Promise.reject(refused);
    const run = this.#last.then(() => {
      const late = this.#refusal();
      if (late) throw late;
      return step();
    });
    this.#last = run.catch(() => undefined);
    return run;
  }

  #refusal(): Error | undefined {
    const { name, slots } = this.#hooks;
    if (!slots.resizable) {
      return new PoolError(`Pool ${name} has attached or discovered workers: the host cannot start or stop them, so it cannot be resized`, 'pool_not_resizable', { pool: name });
    }
    return this.#hooks.refusal();
  }

  async #resizeTo(size: number): Promise<ResizeOutcome> {
    const from = this.#liveSlots().size;
    if (size > from) return this.#grow(size - from);
    // A worker being recycled is replaced in its own slot: let recycles finish before choosing.
    if (size < from) await this.#hooks.lifecycle.settled();
    const live = this.#liveSlots().size;
    const chosen = this.#chooseSlots(Math.max(0, live - size));
    return this.#letGo(chosen, live - chosen.length);
  }

  /** Starts `count` workers in fresh slots, in start-up batches; the pool grows by each worker as it is ready. */
  async #grow(count: number): Promise<ResizeOutcome> {
    const { slots, settings } = this.#hooks;
    const from = this.#liveSlots().size;
    this.#setSize(from);
    const fresh = Array.from({ length: count }, () => slots.freshSlot());
    const added: string[] = [];
    const stopped = () => this.#hooks.refusal() ?? new PoolError(`Pool ${this.#hooks.name} stopped`, 'pool_stopped', { pool: this.#hooks.name });
    const join = async (index: number) => {
      const slot = fresh[index]!;
      try {
        const worker = await this.#hooks.spawn(slot);
        added.push(worker.id);
        this.#setSize(slots.size + 1);
      } catch (error) {
        slots.retire(slot); // never had a worker: nothing to restart
        throw error;
      }
    };
    // A worker that cannot start ends the resize: the pool keeps the workers that did.
    await startInBatches(count, settings.startupBatchSize, settings.startupBatchDelayMs, join, () => this.#hooks.refusal() === undefined, stopped);
    return { pool: this.#hooks.name, from, to: slots.size, added, removed: [] };
  }

  /** Retires `chosen` slots (the pool now has `size`), then waits for their workers to finish their calls and stop. */
  async #letGo(chosen: number[], size: number): Promise<ResizeOutcome> {
    const { slots, settings } = this.#hooks;
    const from = this.#liveSlots().size;
    const leaving = this.#hooks.workers().filter((w) => chosen.includes(slots.slotOf(w)));
    for (const slot of chosen) slots.retire(slot);
    for (const worker of leaving) if (worker.drain()) this.#hooks.draining(worker);
    this.#setSize(size);
    await Promise.all(leaving.map(async (worker) => {
      await whenDrained(worker);
      await worker.stop(settings.gracefulShutdownTimeoutMs);
    }));
    return { pool: this.#hooks.name, from, to: size, added: [], removed: leaving.map((w) => w.id) };
  }

  /**
   * The `count` slots to let go: first those waiting for a replacement (no worker to drain), then
   * those with the fewest calls in flight (idle first), newest slot first among equals; never a
   * slot whose worker is being recycled.
   */
  #chooseSlots(count: number): number[] {
    const { slots } = this.#hooks;
    const load = new Map<number, number>();
    for (const slot of this.#hooks.replacements.pendingSlots()) if (!slots.isRetired(slot)) load.set(slot, -1);
    for (const worker of this.#hooks.workers()) {
      const slot = slots.slotOf(worker);
      if (slots.isRetired(slot) || !isLive(worker)) continue;
      load.set(slot, this.#hooks.lifecycle.isRecycling(worker) ? Infinity : Math.max(load.get(slot) ?? 0, worker.inflight));
    }
    return [...load]
      .filter(([, inflight]) => inflight !== Infinity)
      .sort(([slotA, a], [slotB, b]) => a - b || slotB - slotA)
      .slice(0, count)
      .map(([slot]) => slot);
  }

  /** Slots that have, or are getting, a worker: live workers' slots and those waiting for a replacement. */
  #liveSlots(): Set<number> {
    const { slots } = this.#hooks;
    const live = new Set<number>();
    for (const slot of this.#hooks.replacements.pendingSlots()) if (!slots.isRetired(slot)) live.add(slot);
    for (const worker of this.#hooks.workers()) {
      const slot = slots.slotOf(worker);
      if (!slots.isRetired(slot) && (isLive(worker) || this.#hooks.lifecycle.isRecycling(worker))) live.add(slot);
    }
    return live;
  }

  #setSize(size: number): void {
    this.#hooks.slots.setSize(size);
    this.#hooks.resized();
  }
}
