/**
 * A pool's calls from admission to settlement: placement (sessions, taints, re-entrant calls),
 * the FIFO queue and its limits, running on a worker, the worker's report of the call's end,
 * retries after a crash, timeouts and aborts. It owns the queue, the session bindings and the
 * call counters; the pool speaks to it in verbs.
 */
import { clockMs } from '../clock.js';
import { AbortError, PoolError, TimeoutError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OutgoingCall } from '../transport/types.js';
import type { Worker, WorkerOwner } from '../worker/worker.js';
import type { PoolStats } from './pool-types.js';
import { place, placePinned, reentrantCandidates, type AffinityMode } from './scheduler.js';
import { unknownWorkerError } from './worker-lookup.js';
import { FifoTaskQueue } from './task-queue.js';
import { WorkStealing } from './work-stealing.js';
import type { Task, TaskHooks } from './task.js';
import { callDequeued, callEnqueued, callQueueTimeout, poolSaturated } from '../telemetry/call-events.js';
import { callFailed, callRetried } from '../telemetry/error-events.js';

/** Slack between the cancel grace and the transport deadline that backs up a call timeout. */
const TRANSPORT_DEADLINE_MARGIN_MS = 1_000;

const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** The pool's call counters (the part of `PoolStats` the dispatcher keeps). */
export type CallCounters = Pick<PoolStats, 'requests' | 'errors' | 'queueTimeouts' | 'poolSaturated' | 'retries'>;

/** Which counter a failure adds to: `errors` for most; none for a pool's stop (nothing failed). */
type FailureCounter = 'errors' | 'queueTimeouts' | 'poolSaturated' | null;

/** The pool's settings the dispatcher applies (config names). */
export interface DispatchSettings {
  readonly affinity: AffinityMode;
  readonly poolMaxQueueSize: number;
  readonly poolQueueTimeoutMs: number;
  readonly cancelGraceMs: number;
  readonly pipelineStallMs: number;
}

/** What the dispatcher asks of its pool, as verbs. */
export interface DispatchHost {
  readonly name: string;
  readonly settings: DispatchSettings;
  readonly logger: Logger;
  /** The pool's workers, in slot order. */
  workers(): readonly Worker[];
  /** `workers` minus those the crash barrier avoids now (a session's own worker `keepId` stays). */
  untainted(workers: readonly Worker[], keepId?: string): readonly Worker[];
  /** True while `worker` is being replaced (recycling). */
  isRecycling(worker: Worker): boolean;
  /** The `pool_unhealthy` error when calls must fail at once, else undefined. */
  unhealthy(): PoolError | undefined;
  /**
   * The call's error with what the crash barrier knows of its worker's death, and whether it may run
   * again (`retry`: a retry of a started call, after `backoffMs`; `reroute`: it never started, e.g. a
   * draining worker refused it).
   */
  afterFailure(task: Task, worker: Worker, error: Error): { error: Error; retry: boolean; backoffMs?: number | undefined; reroute?: boolean };
  /** A session's call goes to `worker`: the state to restore with it, if the worker is new to the session. */
  sessionDispatched(sessionId: string, worker: Worker): Record<string, unknown> | undefined;
  /** The call that carried a session restore failed: the worker may not have restored it. */
  sessionRestoreLost(sessionId: string, worker: Worker): void;
  /** A call settled, however it ended (the record of recent calls); `nowMs`: when, if the caller has a `clockMs()` reading. */
  settled(task: Task, ok: boolean, nowMs?: number): void;
  /** A call ended on `worker`: recycle it now if it is due (before it takes another call). */
  recycleIfDue(worker: Worker): void;
  /** The queue may have moved: tell those waiting for the pool to be idle. */
  checkIdle(): void;
}

/** One per pool: every task shares it as its hooks (no closures per call). */
export class Dispatcher implements TaskHooks, WorkerOwner {
  readonly counters: CallCounters = { requests: 0, errors: 0, queueTimeouts: 0, poolSaturated: 0, retries: 0 };
  readonly #queue = new FifoTaskQueue<Task>();
  /** Session id → the worker id it is bound to. */
  readonly #sessions = new Map<string, string>();
  /** Calls waiting out the backoff before their retry: counted as queued, failed with the queue. */
  readonly #backingOff = new Map<Task, NodeJS.Timeout>();
  readonly #host: DispatchHost;
  readonly #stealing: WorkStealing;

  constructor(host: DispatchHost) {
    this.#host = host;
    const queue = this.#queue;
    this.#stealing = new WorkStealing({ workers: () => host.workers(), settings: host.settings, queueSize: () => queue.size });
  }

  /** Calls in the host queue, and those waiting for their retry. */
  get queued(): number {
    return this.#queue.size + this.#backingOff.size;
  }

  /** Calls waiting to run: in the host queue, or inside a worker behind the calls it runs (not settled). */
  get waiting(): number {
    let n = this.queued;
    for (const worker of this.#host.workers()) {
      if (worker.waitingCount === 0) continue;
      for (const [, call] of worker.waiting()) if (!(call as Task).settled) n++;
    }
    return n;
  }

  /** `waiting >= limit`, counted only when the cheap upper bound (settled calls included) reaches it: this runs for every pipelined call. */
  #waitingReaches(limit: number): boolean {
    let bound = this.queued;
    const workers = this.#host.workers();
    for (let i = 0; i < workers.length; i++) bound += workers[i]!.waitingCount; // indexed: no iterator per call
    return bound >= limit && this.waiting >= limit;
  }

  /**
   * Runs `task` now, queues it, or fails it (unhealthy pool, deadlock, strict session, full queue).
   * `returning`: it comes back unstarted from a worker, and queues ahead of younger calls. `nowMs`: a
   * `clockMs()` reading the caller has (a new call's `startedAt`).
   */
  admit(task: Task, returning = false, nowMs: number = clockMs()): void {
    const host = this.#host;
    const unhealthy = host.unhealthy();
    if (unhealthy) return this.#fail(task, unhealthy, null);
    const workers = host.workers();
    const { affinity } = host.settings;
    const bound = task.sessionId === undefined ? undefined : this.#sessions.get(task.sessionId);
    const pinned = task.workerId;
    const candidates = task.blockedWorkers && pinned === undefined ? reentrantCandidates(workers, task.blockedWorkers, bound, affinity) : workers;
    if (candidates === 'deadlock') return this.#deadlock(task, bound);
    // A call the caller pinned to a worker goes there or nowhere (`workerId`).
    let placement = pinned === undefined ? place(host.untainted(candidates, bound), bound, affinity, nowMs) : placePinned(workers, pinned, task.blockedWorkers, nowMs);
    // A strict session whose worker is being recycled waits for the replacement, which takes the session over.
    const recycling = placement.kind === 'busy' ? workers.find((w) => w.id === bound) : undefined;
    if (recycling && host.isRecycling(recycling)) placement = { kind: 'queue', workerId: recycling.id };
    switch (placement.kind) {
      case 'run':
        // Calls taken back together run again in the order they came: none overtakes an older one
        // still on its way back, nor (coming back itself) one already back in the queue.
        if (this.#stealing.oldestOnTheWay() < task.seq || (returning && this.#queue.some((queued) => queued.seq < task.seq))) return this.#enqueue(task, task.workerId, returning, nowMs);
        // A call that would wait inside a busy worker counts against the queue's limit too.
        if (!returning && !placement.worker.hasFreeSlot && this.#waitingReaches(host.settings.poolMaxQueueSize)) return this.#saturated(task);
        return this.#run(task, placement.worker, nowMs);
      case 'busy':
        return this.#fail(task, new PoolError(`Worker ${placement.workerId} of session ${String(task.sessionId)} is busy`, 'session_worker_busy', { pool: host.name, sessionId: task.sessionId, workerId: placement.workerId }));
      case 'gone':
        this.#sessions.delete(task.sessionId as string);
        return this.#fail(task, new PoolError(`Worker ${placement.workerId} of session ${String(task.sessionId)} is gone`, 'session_worker_unavailable', { pool: host.name, sessionId: task.sessionId, workerId: placement.workerId }));
      case 'queue':
        return this.#enqueue(task, placement.workerId, returning, nowMs);
      case 'unknown':
        return this.#fail(task, unknownWorkerError(host.name, placement.workerId, workers));
      case 'deadlock':
        return this.#deadlock(task, placement.workerId);
    }
  }

  #deadlock(task: Task, workerId: string | undefined): void {
    const details = { pool: this.#host.name, tool: task.tool, ...(workerId === undefined ? {} : { workerId }) };
    this.#fail(task, new PoolError(`Call to ${task.tool} from a host tool would wait for the worker that waits for that host tool (pool ${this.#host.name})`, 'reentrant_deadlock', details));
  }

  /** A worker has room: give it the oldest calls it may take (while its slot is tainted and others serve, only those the caller pinned to it). */
  drainTo(worker: Worker): void {
    if (this.#queue.size === 0) return;
    const nowMs = clockMs();
    const onlyChosen = !this.#host.untainted(this.#host.workers()).includes(worker);
    const before = this.#stealing.oldestOnTheWay(); // younger calls wait for those coming back
    while (worker.availableAt(nowMs) && this.#queue.size > 0) {
      const task = this.#queue.takeFirst(
        (t) =>
          t.seq < before &&
          (onlyChosen ? t.workerId === worker.id : t.requiredWorkerId === undefined || t.requiredWorkerId === worker.id) &&
          (!t.blockedWorkers?.has(worker) || worker.hasFreeSlot),
      );
      if (!task) return;
      this.#run(task, worker, nowMs);
    }
  }

  /**
   * The worker's one event per call: the call settles (or runs again elsewhere after a crash)
   * before the worker takes its next call, so a caller hears of its call before the queue moves.
   * Then the pool balances: a worker left free takes back calls waiting in others.
   */
  callEnded(worker: Worker, call: OutgoingCall, ok: boolean, outcome: unknown, nowMs?: number): void {
    const task = call as Task; // a pool's workers only ever run its tasks
    if (ok) task.succeed(outcome, nowMs);
    else this.#failed(task, worker, toError(outcome));
    this.#host.recycleIfDue(worker);
    this.drainTo(worker);
    this.#stealing.balanceSoon(worker);
    this.#host.checkIdle();
  }

  /** A call that waited inside `worker` started: it no longer waits (its queue timeout stops). */
  callStarted(worker: Worker, call: OutgoingCall): void {
    this.#starts(call as Task, worker);
  }

  /**
   * A call left `worker` unstarted (taken back, or its worker died with it waiting): it runs
   * elsewhere as if it had never been sent, ahead of the calls that came after it, with no retry spent.
   */
  callReturned(worker: Worker, call: OutgoingCall): void {
    const task = call as Task;
    this.counters.requests--; // it never ran there: its send was no request
    if (task.restore !== undefined) this.#host.sessionRestoreLost(task.sessionId as string, worker);
    this.#stealing.returned(task);
    task.leaveWorker();
    if (task.settled) return;
    this.admit(task, true);
    // Calls held back while this older one was on its way may go now.
    if (this.#queue.size > 0) for (const w of this.#host.workers()) this.drainTo(w);
  }

  /** A call asked back stays where it is (it had started): younger calls held for it may go. */
  callKept(_worker: Worker, call: OutgoingCall): void {
    const task = call as Task;
    task.recalling = false;
    this.#stealing.returned(task);
    if (this.#queue.size > 0) for (const w of this.#host.workers()) this.drainTo(w);
  }

  /**
   * Fails every waiting call with `error` (the pool stops, or became unhealthy): those in the queue,
   * those waiting for their retry, and those waiting inside workers (cancelled there: a call that has not started is let go at once).
   */
  failQueued(error: Error, counted: boolean): void {
    const waiting = [...this.#queue.drain(), ...this.#backingOff.keys()];
    for (const timer of this.#backingOff.values()) clearTimeout(timer);
    this.#backingOff.clear();
    for (const task of waiting) this.#fail(task, error, counted ? 'errors' : null);
    for (const worker of this.#host.workers()) {
      for (const [id, call] of [...worker.waiting()]) {
        const task = call as Task;
        if (task.settled) continue;
        this.#fail(task, error, counted ? 'errors' : null);
        worker.cancel(id, this.#host.settings.cancelGraceMs);
      }
    }
  }

  /** Fails the calls pinned to `workerId` (it is gone: they can never run): `error`, or `chosenError` for those the caller pinned (`workerId`). */
  failPinnedTo(workerId: string, error: Error, chosenError: Error = error): void {
    for (let task; (task = this.#queue.takeFirst((t) => t.requiredWorkerId === workerId)); ) this.#fail(task, task.workerId === undefined ? error : chosenError);
  }

  /**
   * Recycling: sessions and calls strict affinity pinned to `old` go to `fresh` (those the caller
   * pinned stay: they wanted `old`); calls waiting inside `old` are taken back, except those.
   */
  handOver(old: Worker, fresh: Worker): void {
    for (const [session, workerId] of this.#sessions) if (workerId === old.id) this.#sessions.set(session, fresh.id);
    for (const task of this.#queue.values()) if (task.requiredWorkerId === old.id && task.workerId === undefined) task.requiredWorkerId = fresh.id;
    this.#stealing.recallWaiting(old, true);
    this.drainTo(fresh);
  }

  /** The worker a session is bound to, if any. */
  sessionWorker(sessionId: string): string | undefined {
    return this.#sessions.get(sessionId);
  }

  /** Forgets a session's worker binding. */
  releaseSession(sessionId: string): void {
    this.#sessions.delete(sessionId);
  }

  onTimeout(task: Task): void {
    this.#interrupt(task, new TimeoutError(`Call to ${task.tool} timed out after ${task.timeoutMs} ms`, 'call_timeout', task.timeoutMs, { tool: task.tool, pool: this.#host.name }));
  }

  onAbort(task: Task, reason: unknown): void {
    this.#interrupt(task, new AbortError(reason, task.running ? 'running' : 'queued'));
  }

  /** Waited (in the queue or inside a worker) past the queue timeout: it leaves without running. */
  onQueueTimeout(task: Task): void {
    if (task.settled || task.running) return;
    const { name, settings } = this.#host;
    callQueueTimeout(name, task);
    const waitedMs = settings.poolQueueTimeoutMs;
    this.#fail(task, new TimeoutError(`Call to ${task.tool} waited in the queue of pool ${name} for ${waitedMs} ms`, 'queue_timeout', waitedMs, { pool: name, tool: task.tool }), 'queueTimeouts');
    // Inside a worker, a cancel of a call that has not started is answered at once: its slot frees.
    if (task.worker && task.callId !== undefined) task.worker.cancel(task.callId, settings.cancelGraceMs);
    else this.#queue.remove(task);
  }

  /** The caller's own error, as thrown (the worker did nothing wrong: it is only cancelled). */
  onChunkError(task: Task, error: unknown): void {
    this.#interrupt(task, error as Error);
  }

  onSettled(task: Task, ok: boolean, nowMs?: number): void {
    this.#host.settled(task, ok, nowMs);
  }

  #enqueue(task: Task, workerId: string | undefined, returning: boolean, nowMs: number): void {
    const { settings } = this.#host;
    if (returning) {
      task.requiredWorkerId = workerId;
      // Ahead of younger calls but behind older ones: calls taken back together keep their order.
      this.#queue.putBack(task, (queued) => queued.seq > task.seq);
      return this.#waits(task, nowMs);
    }
    if (this.#waitingReaches(settings.poolMaxQueueSize)) return this.#saturated(task);
    task.requiredWorkerId = workerId;
    this.#queue.push(task);
    this.#waits(task, nowMs);
  }

  /** The queue (host queue and calls waiting inside workers) is full: `pool_saturated`. */
  #saturated(task: Task): void {
    const { name, settings } = this.#host;
    const depth = this.waiting;
    poolSaturated(name, task, depth, settings.poolMaxQueueSize);
    const error = new PoolError(`Pool ${name} queue is full (${settings.poolMaxQueueSize})`, 'pool_saturated', { pool: name, maxQueueSize: settings.poolMaxQueueSize });
    this.#fail(task, error, 'poolSaturated');
  }

  /** The call starts waiting (in the queue, or inside a worker): its queue timeout runs, the event says so once per wait. */
  #waits(task: Task, nowMs: number): void {
    task.startQueueTimer(this.#host.settings.poolQueueTimeoutMs, nowMs);
    if (task.worker) this.#stealing.watch();
    if (task.waitAnnounced) return;
    task.waitAnnounced = true;
    callEnqueued(this.#host.name, task, this);
  }

  /** The call stops waiting: it runs on `worker` now. */
  #starts(task: Task, worker: Worker): void {
    task.running = true;
    task.clearQueueTimer();
    if (!task.waitAnnounced) return;
    // Paired: a call that waits again later (taken back after the host took it for started) is announced again.
    task.waitAnnounced = false;
    callDequeued(this.#host.name, task, worker.id, this.#queue.size);
  }

  #run(task: Task, worker: Worker, nowMs: number): void {
    this.counters.requests++;
    task.restore = undefined;
    if (task.sessionId !== undefined) {
      this.#sessions.set(task.sessionId, worker.id);
      task.restore = this.#host.sessionDispatched(task.sessionId, worker);
    }
    // The transport deadline only backs up the pool's own timeout: it must fall well after the
    // cancel grace, whose kill is what frees a worker stuck in a call that ignores cancellation.
    task.deadlineMs =
      task.deadlineAt === Infinity ? undefined : Math.max(0, task.deadlineAt - nowMs) + 2 * this.#host.settings.cancelGraceMs + TRANSPORT_DEADLINE_MARGIN_MS;
    // A free slot: it runs now. Else it waits inside the worker, with the same guarantees as in the
    // queue: its queue timeout runs on until it starts (`callStarted`), and it may be taken back.
    const startsNow = worker.hasFreeSlot;
    task.markRunning(worker, worker.call(task, nowMs));
    if (startsNow) this.#starts(task, worker);
    else this.#waits(task, nowMs);
  }

  /** The call failed on `worker`: run it again elsewhere when the crash barrier allows, else fail it. */
  #failed(task: Task, worker: Worker, error: Error): void {
    if (task.restore !== undefined) this.#host.sessionRestoreLost(task.sessionId as string, worker);
    if (task.settled) return;
    const verdict = this.#host.afterFailure(task, worker, error);
    if (verdict.reroute) {
      // Refused unstarted (the worker drains): placed again as if new, no retry spent.
      task.worker = undefined;
      task.callId = undefined;
      return this.admit(task);
    }
    if (!verdict.retry) {
      callFailed(this.#host.name, task, verdict.error);
      return this.#fail(task, verdict.error);
    }
    const backoffMs = verdict.backoffMs ?? 0;
    this.#host.logger.info(`Retrying call to ${task.tool} in ${backoffMs} ms after ${worker.id} crashed`, { pool: this.#host.name, workerId: worker.id });
    this.counters.retries++;
    task.prepareRetry();
    callRetried(this.#host.name, task, verdict.error, backoffMs);
    if (backoffMs <= 0) return this.admit(task);
    const timer = setTimeout(() => {
      this.#backingOff.delete(task);
      this.admit(task);
    }, backoffMs);
    this.#backingOff.set(task, timer);
  }

  /** Timeout or abort: reject first, then clean up (leave the queue, or cancel in Python). */
  #interrupt(task: Task, error: Error): void {
    if (task.settled) return;
    this.#fail(task, error);
    if (task.worker && task.callId !== undefined) task.worker.cancel(task.callId, this.#host.settings.cancelGraceMs);
    else {
      this.#queue.remove(task);
      clearTimeout(this.#backingOff.get(task));
      this.#backingOff.delete(task);
    }
  }

  /** The one place a call fails, counted once. */
  #fail(task: Task, error: Error, counter: FailureCounter = 'errors'): void {
    if (task.settled) return;
    if (counter) this.counters[counter]++;
    task.fail(error);
  }
}
