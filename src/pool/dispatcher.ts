/**
 * A pool's call path from admission to settlement: placement (sessions, taints, re-entrant calls),
 * the FIFO queue and its limits, running on a worker, retries after a crash, timeouts and aborts.
 * It works on the pool's own state (workers, queue, sessions, counters), shared by reference.
 */
import { AbortError, PoolError, TimeoutError } from '../errors.js';
import type { Worker } from '../worker/worker.js';
import { avoidTainted, isLive, withCrashInfo, type CrashBarrier } from './crash-barrier.js';
import type { HealthTracker } from './health.js';
import type { LifecycleManager } from './lifecycle.js';
import type { PoolOptions, PoolStats } from './pool-types.js';
import { place, reentrantCandidates } from './scheduler.js';
import type { TaskQueue } from './task-queue.js';
import type { Task, TaskHooks } from './task.js';
import { callDequeued, callEnqueued, callQueueTimeout, poolSaturated } from '../telemetry/call-events.js';
import { callFailed, callRetried } from '../telemetry/error-events.js';

/** Slack between the cancel grace and the transport deadline that backs up a call timeout. */
const TRANSPORT_DEADLINE_MARGIN_MS = 1_000;

const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** The pool's call counters (the part of `PoolStats` the pool keeps itself). */
export type CallCounters = Pick<PoolStats, 'requests' | 'errors' | 'queueTimeouts' | 'poolSaturated' | 'retries' | 'streamHolds'>;

/** The pool state the dispatcher reads and changes; every member is the pool's own object. */
export interface DispatchState {
  name: string;
  options: PoolOptions;
  workers: readonly Worker[];
  queue: TaskQueue<Task>;
  /** Session id → the worker id it is bound to. */
  sessions: Map<string, string>;
  slots: WeakMap<Worker, number>;
  counters: CallCounters;
  barrier: CrashBarrier;
  health: HealthTracker;
  lifecycle: LifecycleManager;
}

/** One per pool: every call shares its hooks object and methods (a class, so the hot path makes no closures for them). */
export class Dispatcher {
  readonly #name: string;
  readonly #options: PoolOptions;
  readonly #workers: readonly Worker[];
  readonly #queue: TaskQueue<Task>;
  readonly #sessions: Map<string, string>;
  readonly #slots: WeakMap<Worker, number>;
  readonly #counters: CallCounters;
  readonly #barrier: CrashBarrier;
  readonly #health: HealthTracker;
  readonly #lifecycle: LifecycleManager;

  constructor(state: DispatchState) {
    this.#name = state.name;
    this.#options = state.options;
    this.#workers = state.workers;
    this.#queue = state.queue;
    this.#sessions = state.sessions;
    this.#slots = state.slots;
    this.#counters = state.counters;
    this.#barrier = state.barrier;
    this.#health = state.health;
    this.#lifecycle = state.lifecycle;
  }

  /** One hooks object for every task of the pool: no closures per call. */
  readonly taskHooks: TaskHooks = {
    onTimeout: (t) =>
      this.#interrupt(t, new TimeoutError(`Call to ${t.tool} timed out after ${t.timeoutMs} ms`, 'call_timeout', t.timeoutMs, { tool: t.tool, pool: this.#name })),
    onAbort: (t, reason) => this.#interrupt(t, new AbortError(reason, t.worker ? 'running' : 'queued')),
    // The caller's own error, as thrown (the worker did nothing wrong: it is only cancelled).
    onChunkError: (t, error) => this.#interrupt(t, error as Error),
  };

  /** Runs `task` now, queues it, or fails it (unhealthy pool, deadlock, strict session, full queue). */
  admit(task: Task): void {
    if (this.#health.failFast(this.#workers.some(isLive))) return task.fail(this.#health.unhealthyError(this.#name));
    const bound = task.sessionId === undefined ? undefined : this.#sessions.get(task.sessionId);
    const candidates = task.blockedWorkers ? reentrantCandidates(this.#workers, task.blockedWorkers, bound, this.#options.affinity) : this.#workers;
    if (candidates === 'deadlock') {
      this.#counters.errors++;
      return task.fail(
        new PoolError(`Call to ${task.tool} from a host tool would wait for the worker that waits for that host tool (pool ${this.#name})`, 'reentrant_deadlock', {
          pool: this.#name,
          tool: task.tool,
          ...(bound === undefined ? {} : { workerId: bound }),
        }),
      );
    }
    let placement = place(this.#untainted(candidates, bound), bound, this.#options.affinity);
    // A strict session whose worker is being recycled waits for the replacement, which takes the session over.
    const recycling = placement.kind === 'busy' ? this.#workers.find((w) => w.id === bound) : undefined;
    if (recycling && this.#lifecycle.isRecycling(recycling)) placement = { kind: 'queue', workerId: recycling.id };
    switch (placement.kind) {
      case 'run':
        return this.#run(task, placement.worker);
      case 'busy':
        this.#counters.errors++;
        return task.fail(new PoolError(`Worker ${placement.workerId} of session ${String(task.sessionId)} is busy`, 'session_worker_busy', { pool: this.#name, workerId: placement.workerId, sessionId: task.sessionId }));
      case 'gone':
        this.#sessions.delete(task.sessionId as string);
        this.#counters.errors++;
        return task.fail(new PoolError(`Worker ${placement.workerId} of session ${String(task.sessionId)} is gone`, 'session_worker_unavailable', { pool: this.#name, workerId: placement.workerId, sessionId: task.sessionId }));
      case 'queue':
        if (this.#queue.size >= this.#options.maxQueueSize) {
          this.#counters.poolSaturated++;
          poolSaturated(this.#name, task, this.#queue.size, this.#options.maxQueueSize);
          return task.fail(new PoolError(`Pool ${this.#name} queue is full (${this.#options.maxQueueSize})`, 'pool_saturated', { pool: this.#name, maxQueueSize: this.#options.maxQueueSize }));
        }
        task.requiredWorkerId = placement.workerId;
        this.#queue.push(task);
        callEnqueued(this.#name, task, this.#queue.size);
        task.startQueueTimer(this.#options.queueTimeoutMs, () => {
          this.#queue.remove(task);
          this.#counters.queueTimeouts++;
          callQueueTimeout(this.#name, task);
          task.fail(new TimeoutError(`Call to ${task.tool} waited in the queue of pool ${this.#name} for ${this.#options.queueTimeoutMs} ms`, 'queue_timeout', this.#options.queueTimeoutMs, { pool: this.#name, tool: task.tool }));
        });
    }
  }

  /** A worker has a free slot: give it the oldest call it may take (none while its slot is tainted and others serve). */
  drainTo(worker: Worker): void {
    if (this.#queue.size === 0 || !this.#untainted(this.#workers).includes(worker)) return;
    while (worker.available && this.#queue.size > 0) {
      const task = this.#queue.takeFirst(
        (t) => (t.requiredWorkerId === undefined || t.requiredWorkerId === worker.id) && (!t.blockedWorkers?.has(worker) || worker.hasFreeSlot),
      );
      if (!task) return;
      task.clearQueueTimer();
      callDequeued(this.#name, task, worker.id, this.#queue.size);
      this.#run(task, worker);
    }
  }

  #run(task: Task, worker: Worker): void {
    this.#counters.requests++;
    let restore: Record<string, unknown> | undefined;
    if (task.sessionId !== undefined) {
      this.#sessions.set(task.sessionId, worker.id);
      restore = this.#options.onSessionDispatch?.(task.sessionId, worker);
    }
    // The transport deadline only backs up the pool's own timeout: it must fall well after the
    // cancel grace, whose kill is what frees a worker stuck in a call that ignores cancellation.
    const deadlineMs =
      task.deadlineAt === Infinity ? undefined : Math.max(0, task.deadlineAt - Date.now()) + 2 * this.#options.cancelGraceMs + TRANSPORT_DEADLINE_MARGIN_MS;
    const handle = worker.call(
      { tool: task.tool, args: task.args, sessionId: task.sessionId, metadata: task.metadata, correlationId: task.correlationId, deadlineMs, restore },
      task.chunkSink,
      task.flow,
    );
    task.markRunning(worker, handle.id);
    handle.result.then(
      (value) => task.succeed(value),
      (error: unknown) => {
        if (restore !== undefined) this.#options.onSessionRestoreLost?.(task.sessionId as string, worker);
        if (task.settled) return;
        // The worker's exit was handled (synchronously) before this rejection: its crash is known.
        const err = withCrashInfo(toError(error), this.#barrier.crashOf(worker));
        if (this.#barrier.retryAllowed(task, err)) {
          this.#options.logger.info(`Retrying idempotent call to ${task.tool} after ${worker.id} crashed`, { pool: this.#name, workerId: worker.id });
          this.#counters.retries++;
          task.prepareRetry();
          callRetried(this.#name, task, err);
          return this.admit(task);
        }
        this.#counters.errors++;
        callFailed(this.#name, task, err);
        task.fail(err);
      },
    );
  }

  /** Timeout or abort: reject first, then clean up (leave the queue, or cancel in Python). */
  #interrupt(task: Task, error: Error): void {
    if (task.settled) return;
    this.#counters.errors++;
    task.fail(error);
    if (task.worker && task.callId !== undefined) task.worker.cancel(task.callId, this.#options.cancelGraceMs);
    else this.#queue.remove(task);
  }

  /** `workers` minus those of tainted slots, unless no untainted worker is live (a session's own worker stays). */
  #untainted(workers: readonly Worker[], keepId?: string): readonly Worker[] {
    if (!this.#barrier.options.enabled) return workers;
    const now = Date.now();
    return avoidTainted(workers, (w) => this.#barrier.isTainted(this.#slots.get(w), now), keepId);
  }
}
