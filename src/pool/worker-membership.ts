/** Workers joining and leaving a pool: a started worker takes its slot and its events reach the pool; one that exits leaves, and a crash gets the crash barrier's verdict on its slot. */
import type { EventEmitter } from 'node:events';
import type { ResolvedPoolConfig } from '../config/index.js';
import { PoolError } from '../errors.js';
import type { Worker, WorkerExit } from '../worker/worker.js';
import { workerCapacity } from './capacity.js';
import { describeExit, type CrashBarrier } from './crash-barrier.js';
import type { Dispatcher } from './dispatcher.js';
import type { ForkLauncher } from './fork-launcher.js';
import type { PoolHealthState } from './health.js';
import type { LifecycleManager } from './lifecycle.js';
import { toInfo, type PoolEvents, type PoolServices, type PoolState } from './pool-types.js';
import type { Replacements } from './replacements.js';
import type { ToolCatalog } from './tool-catalog.js';
import { startPoolWorker } from './worker-ops.js';
import { unknownWorkerError } from './worker-lookup.js';
import type { WorkerSlots } from './worker-slots.js';

/** What joining and leaving ask of the pool: its parts (they stay the pool's), its state and its events. */
export interface MembershipHooks {
  readonly name: string;
  readonly config: ResolvedPoolConfig;
  readonly services: PoolServices;
  /** The pool's workers: a started worker is added, an exited one taken out. */
  readonly workers: Worker[];
  readonly slots: WorkerSlots;
  readonly barrier: CrashBarrier;
  readonly health: PoolHealthState;
  readonly tools: ToolCatalog;
  readonly lifecycle: Pick<LifecycleManager, 'isRecycling'>;
  readonly replacements: Pick<Replacements, 'later'>;
  readonly dispatcher: Dispatcher;
  /** `startMode: 'fork'`: forks the pool's spawned workers from its template. */
  readonly forks: ForkLauncher | undefined;
  /** The pool itself, which emits the worker events. */
  readonly events: EventEmitter<PoolEvents>;
  state(): PoolState;
  /** No call in flight or queued. */
  isIdle(): boolean;
  /** Emits `health` on a status change; an unhealthy pool with no live worker fails what waits. */
  updateHealth(): void;
}

/** Starts a pool's workers into their slots and handles their exits. */
export class WorkerMembership {
  readonly #hooks: MembershipHooks;
  #nextWorker = 1;

  constructor(hooks: MembershipHooks) {
    this.#hooks = hooks;
  }

  /** Starts a worker for `slot`; `restart`: it replaces one that died (counted in `health().restarts`). */
  async spawn(slot: number, restart = false): Promise<Worker> {
    const { name, config, slots, health, dispatcher, events } = this.#hooks;
    const id = `${name}-${this.#nextWorker++}`;
    const endpoint = slots.take(slot);
    try {
      const worker = await startPoolWorker(
        { config, services: this.#hooks.services, capacity: workerCapacity(config), owner: dispatcher, forks: this.#hooks.forks },
        id,
        endpoint,
      );
      // Stopped, or its slot let go by a resize, while it started.
      const state = this.#hooks.state();
      if (state === 'stopping' || state === 'stopped' || slots.isRetired(slot)) {
        await worker.stop(config.gracefulShutdownTimeoutMs);
        throw new PoolError(`Pool ${name} ${slots.isRetired(slot) ? 'was resized' : 'stopped'}`, 'pool_stopped', { pool: name });
      }
      this.#hooks.workers.push(worker);
      slots.assign(worker, slot);
      this.#hooks.barrier.track(worker);
      if (worker.readyInfo) this.#hooks.tools.learn(worker.readyInfo);
      worker.on('drained', () => this.#hooks.isIdle() && events.emit('idle'));
      worker.once('exit', (exit) => this.#onWorkerExit(worker, exit));
      worker.on('heartbeat-missed', (miss) => events.emit('worker:heartbeat-missed', toInfo(worker), miss));
      worker.on('heartbeat-recovered', (before) => {
        events.emit('worker:heartbeat-recovered', toInfo(worker), before);
        dispatcher.drainTo(worker); // an unresponsive worker (heartbeat.dependent: false) takes calls again
      });
      if (restart) health.restarts++;
      events.emit('worker:ready', toInfo(worker));
      dispatcher.drainTo(worker);
      this.#hooks.updateHealth();
      return worker;
    } catch (error) {
      slots.release(endpoint);
      throw error;
    }
  }

  #onWorkerExit(worker: Worker, exit: WorkerExit): void {
    const { name, workers, slots, barrier, health, dispatcher, events } = this.#hooks;
    const index = workers.indexOf(worker);
    if (index >= 0) workers.splice(index, 1);
    slots.release(worker.options.endpoint);
    const info = toInfo(worker);
    events.emit('worker:exit', info, exit);
    // Calls pinned to this worker (strict affinity, or the caller's `workerId`) can never run now.
    const details = { pool: name, workerId: worker.id };
    dispatcher.failPinnedTo(worker.id, new PoolError(`Worker ${worker.id} exited while session calls waited for it`, 'session_worker_unavailable', details), unknownWorkerError(name, worker.id, workers));
    // Its calls fail with it: no call of this worker will end normally.
    if (this.#hooks.isIdle()) events.emit('idle');
    // Stopped on purpose (pool stop, or the end of a recycle): nothing to replace.
    if (this.#hooks.state() !== 'ready' || (exit.expected && exit.reason === undefined)) return;
    const slot = slots.slotOf(worker);
    // A remote worker gone after it said it drains (a pod ending) did not crash.
    if (slots.drainedRemote(worker)) return slots.vacate(slot);
    const crash = barrier.classify(worker, exit);
    health.recordCrash(worker.id, crash);
    events.emit('worker:crash', info, crash);
    if (slots.isRetired(slot)) return; // a resize let its slot go: nothing to restart
    let verdict: 'restart' | 'taint' | 'remove' | undefined;
    const log = (level: 'warn' | 'error', then: string) => this.#hooks.services.logger[level](`${describeExit(worker.id, crash)}; ${then}`, { pool: name });
    // While recycling, its replacement is already starting; if that fails, the recycle vacates the slot.
    if (this.#hooks.lifecycle.isRecycling(worker)) log('warn', 'its replacement is already starting');
    else if ((verdict = barrier.onCrash(slot, Date.now(), crash)) === 'remove') {
      health.removedSlots++;
      slots.remove(slot);
      log('error', `it crashed more than ${barrier.options.maxRestarts} times within ${barrier.options.windowSeconds} s: slot removed for good`);
      events.emit('worker:removed', info, crash);
    } else {
      log('warn', 'starting a replacement');
      if (verdict === 'taint') {
        events.emit('worker:tainted', info, crash, barrier.options.taintMs);
        // Once the taint expires, the slot's worker takes queued calls again.
        this.#hooks.replacements.later(barrier.options.taintMs, () => slots.workersIn(slot, workers).forEach((w) => dispatcher.drainTo(w)));
      }
      slots.vacate(slot);
    }
    this.#hooks.updateHealth();
  }
}
