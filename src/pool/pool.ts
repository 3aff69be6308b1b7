/** A named pool of Python workers: start-up in batches, FIFO queue, placement, timeouts, abort, crash handling, recycling. */
import { EventEmitter, once } from 'node:events';
import { blockedWorkers } from '../bridge/call-chain.js';
import { AbortError, PoolError, TimeoutError, ValidationError } from '../errors.js';
import type { ChunkHandler, ToolSpec } from '../transport/types.js';
import type { Worker, WorkerExit } from '../worker/worker.js';
import { CrashBarrier, avoidTainted, describeExit, isLive, withCrashInfo } from './crash-barrier.js';
import { HealthTracker, type PoolHealth } from './health.js';
import { LifecycleManager, type RecycleOutcome } from './lifecycle.js';
import { toInfo, type PoolEvents, type PoolOptions, type PoolStats, type WorkerInfo } from './pool-types.js';
import { Replacements } from './replacements.js';
import { place, reentrantCandidates } from './scheduler.js';
import { Endpoints, cleanupSessionOn, startInBatches, startPoolWorker } from './worker-ops.js';
import { PoolCircuit } from '../resilience/pool-circuit.js';
import { FifoTaskQueue } from './task-queue.js';
import { Task, type CallOptions, type TaskHooks } from './task.js';
import { callDequeued, callEnqueued, callQueueTimeout, poolSaturated, traceCall } from '../telemetry/call-events.js';

export type { PoolEvents, PoolOptions, PoolStats, WorkerInfo } from './pool-types.js';

/** Slack between the cancel grace and the transport deadline that backs up a call timeout. */
const TRANSPORT_DEADLINE_MARGIN_MS = 1_000;
const NO_RECYCLING = { ttlMs: Infinity, maxRequests: Infinity, memoryThresholdMb: undefined, checkIntervalMs: 5_000 };

/** Tool names per worker `tools` list (the list a handshake gave), for the per-call unknown-tool check. */
const toolNameSets = new WeakMap<readonly ToolSpec[], Set<string>>();

const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * A pool of identical workers. Each worker fills a numbered slot; a replacement (after a crash,
 * or when recycling) takes the slot of the worker it replaces, so crash counts and taints follow
 * the slot.
 */
export class Pool extends EventEmitter<PoolEvents> {
  readonly name: string;
  readonly #options: PoolOptions;
  readonly #workers: Worker[] = [];
  readonly #queue = new FifoTaskQueue<Task>();
  readonly #sessions = new Map<string, string>();
  readonly #endpoints: Endpoints;
  readonly #slots = new WeakMap<Worker, number>();
  readonly #barrier: CrashBarrier;
  readonly #health: HealthTracker;
  readonly #lifecycle: LifecycleManager;
  readonly #replacements: Replacements;
  readonly #circuit: PoolCircuit;
  #state: 'new' | 'starting' | 'ready' | 'stopping' | 'stopped' = 'new';
  #nextWorker = 1;
  #stats = { requests: 0, errors: 0, queueTimeouts: 0, poolSaturated: 0, retries: 0, streamHolds: 0 };
  #streamsHeld = 0;
  readonly #onStreamHeld = (held: boolean): void => {
    if (held) {
      this.#streamsHeld++;
      this.#stats.streamHolds++;
    } else this.#streamsHeld--;
  };

  constructor(options: PoolOptions) {
    super();
    this.name = options.name;
    this.#options = options;
    this.#endpoints = new Endpoints(options.endpoints, options.name);
    this.#barrier = new CrashBarrier(options.crashBarrier);
    this.#circuit = new PoolCircuit(options.circuitBreaker, options.name);
    this.#health = new HealthTracker(options.size);
    const slotOf = (w: Worker) => this.#slots.get(w) as number;
    this.#lifecycle = new LifecycleManager(options.lifecycle ?? NO_RECYCLING, {
      workers: () => this.#workers,
      spawnReplacement: (old) => this.#spawnWorker(slotOf(old)),
      handOver: (old, fresh) => this.#handOver(old, fresh),
      resume: (old) => this.#drainTo(old),
      vacate: (old) => this.#replacements.vacate(slotOf(old)),
      recycled: (old, reason) => this.emit('worker:recycled', toInfo(old), reason),
      gracefulShutdownTimeoutMs: options.gracefulShutdownTimeoutMs,
      logger: options.logger.child({ pool: options.name, category: 'lifecycle' }),
    });
    this.#replacements = new Replacements({
      spawn: (slot) => this.#spawnWorker(slot, true),
      active: () => this.#state === 'ready',
      failed: (error, gaveUp) => {
        this.#health.recordError(error);
        this.emit('worker:restart-failed', error);
        if (!gaveUp) return;
        this.#options.logger.error(`Pool ${this.name} gave up replacing workers: ${error.message}`, { pool: this.name });
        this.#health.gaveUp = true;
        this.#updateHealth();
      },
    });
  }

  /** Starts every worker, in batches; rejects (after stopping the rest) if any cannot start. */
  async start(): Promise<void> {
    this.#state = 'starting';
    const { size, startupBatchSize, startupBatchDelayMs } = this.#options;
    try {
      await startInBatches(
        size,
        startupBatchSize,
        startupBatchDelayMs,
        (slot) => this.#spawnWorker(slot),
        () => this.#state === 'starting',
        () => new PoolError(`Pool ${this.name} was stopped during start-up`, 'pool_stopped'),
      );
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.#state = 'ready';
    this.#health.changed(this.#workers.length);
    this.#lifecycle.start();
  }

  /** Chunks of one `stream()` buffered on the host before Python waits (config `streamHighWaterMark`). */
  get streamHighWaterMark(): number {
    return this.#options.streamHighWaterMark;
  }

  /** Resolves once every worker slot is filled by a ready worker; rejects after `timeoutMs`. */
  async awaitReady(timeoutMs: number): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      while (!this.#isFull()) await once(this, 'worker:ready', { signal });
    } catch (error) {
      if (!signal.aborted) throw error;
      throw new TimeoutError(`Pool ${this.name} was not ready within ${timeoutMs} ms`, 'startup_timeout', timeoutMs, { pool: this.name });
    }
  }

  /** Resolves when no call is in flight or queued (cancelled calls count until Python lets go). */
  async onIdle(): Promise<void> {
    while (!this.#isIdle()) await once(this, 'idle');
  }

  /**
   * Runs a tool. With `onChunk`, runs it as a stream and resolves after the last chunk. With the
   * circuit breaker on, a pool that keeps failing rejects at once with `circuit_open`.
   */
  execute(tool: string, args: Record<string, unknown>, options: CallOptions = {}, onChunk?: ChunkHandler): Promise<unknown> {
    return traceCall(this.name, tool, options, onChunk, (opts, sink, bind) =>
      // No breaker (the default): no extra closure on the per-call path.
      this.#circuit.breaker ? this.#circuit.run(() => this.#execute(tool, args, opts, sink, bind)) : this.#execute(tool, args, opts, sink, bind),
    );
  }

  #execute(tool: string, args: Record<string, unknown>, options: CallOptions, onChunk: ChunkHandler | undefined, bind?: (task: Task) => void): Promise<unknown> {
    if (this.#state !== 'ready') {
      const code = this.#state === 'stopping' || this.#state === 'stopped' ? 'pool_stopped' : 'pool_not_started';
      return Promise.reject(new PoolError(`Pool ${this.name} is ${this.#state}`, code, { pool: this.name }));
    }
    const tools = this.#toolNames();
    if (tools && !tools.has(tool)) {
      const available = [...tools].sort();
      return Promise.reject(
        new ValidationError(`Unknown tool '${tool}' in pool ${this.name} (available: ${available.join(', ')})`, 'unknown_tool', { tool, pool: this.name, available }),
      );
    }
    const timeoutMs = options.timeoutMs ?? (onChunk ? this.#options.defaultStreamTimeoutMs : this.#options.defaultTimeoutMs);
    const task = new Task(tool, args, options, onChunk, timeoutMs, this.#taskHooks);
    if (task.flow) task.flow.onHeld = this.#onStreamHeld;
    task.blockedWorkers = blockedWorkers();
    bind?.(task);
    if (!task.settled) this.#admit(task);
    return task.promise;
  }

  /** One hooks object for every task of the pool: no closures per call. */
  readonly #taskHooks: TaskHooks = {
    onTimeout: (t) =>
      this.#interrupt(t, new TimeoutError(`Call to ${t.tool} timed out after ${t.timeoutMs} ms`, 'call_timeout', t.timeoutMs, { tool: t.tool, pool: this.name })),
    onAbort: (t, reason) => this.#interrupt(t, new AbortError(reason, t.worker ? 'running' : 'queued')),
    // The caller's own error, as thrown (the worker did nothing wrong: it is only cancelled).
    onChunkError: (t, error) => this.#interrupt(t, error as Error),
  };

  /** Tool names of the first ready worker (undefined before any is ready), as a set kept per tools list. */
  #toolNames(): ReadonlySet<string> | undefined {
    let tools: ToolSpec[] | undefined;
    for (const w of this.#workers) {
      if (w.readyInfo) {
        tools = w.tools;
        break;
      }
    }
    if (!tools) return undefined;
    let names = toolNameSets.get(tools);
    if (!names) toolNameSets.set(tools, (names = new Set(tools.map((t) => t.name))));
    return names;
  }

  /** Counters and worker counts. */
  stats(): PoolStats {
    let available = 0;
    let busy = 0;
    for (const w of this.#workers) {
      if (w.hasFreeSlot) available++;
      if (w.inflight > 0) busy++;
    }
    const lifecycle = { ...this.#lifecycle.counts };
    return {
      ...this.#stats,
      queued: this.#queue.size,
      workers: this.#workers.length,
      available,
      busy,
      recycled: this.#lifecycle.total,
      lifecycle,
      streamsHeld: this.#streamsHeld,
    };
  }

  /** Health status, crash and restart counts, and the last failure (with Python's stderr or traceback). */
  health(): PoolHealth {
    // A worker being recycled still serves its slot until its replacement is ready.
    return this.#health.snapshot(this.#workers.filter((w) => isLive(w) || this.#lifecycle.isRecycling(w)).length);
  }

  /** A snapshot of each worker. */
  listWorkers(): WorkerInfo[] {
    return this.#workers.map(toInfo);
  }

  /** Tools the workers reported at their handshake. */
  tools(): ToolSpec[] {
    return this.#workers[0]?.tools ?? [];
  }

  /**
   * Replaces a worker by a fresh one without failing a call: it stops taking calls, its
   * replacement starts, and once that is ready and the old worker finished its calls, the old
   * one stops. Resolves then; rejects when no replacement could start (the old worker keeps
   * serving). Attached workers cannot be recycled (the host cannot start their replacement). A
   * worker already being recycled (e.g. for `maxRequests`) is not recycled again: this waits for
   * that recycle and settles with its outcome (`reason` says which recycle it was).
   */
  recycleWorker(workerId: string): Promise<RecycleOutcome> {
    if (this.#state !== 'ready') return Promise.reject(new PoolError(`Pool ${this.name} is ${this.#state}`, 'pool_stopped', { pool: this.name }));
    return this.#lifecycle.recycleById(this.name, workerId);
  }

  /** Forgets a session's worker binding. */
  releaseSession(sessionId: string): void {
    this.#sessions.delete(sessionId);
  }

  /**
   * Runs the adapter's `cleanup_session` on those of `workerIds` still alive in this pool, and
   * forgets the session's binding. Failures are logged: an ended session must not fail anything.
   */
  async cleanupSession(sessionId: string, workerIds: Iterable<string>): Promise<void> {
    this.#sessions.delete(sessionId);
    await cleanupSessionOn(this.#workers, sessionId, workerIds, this.#options.logger);
  }

  /** The worker a session is bound to, if any. */
  sessionWorker(sessionId: string): string | undefined {
    return this.#sessions.get(sessionId);
  }

  /**
   * Stops taking calls, fails queued ones, and stops every worker: SIGTERM, then SIGKILL after
   * `gracefulTimeoutMs` (default: the pool's `gracefulShutdownTimeoutMs`).
   */
  async stop(gracefulTimeoutMs = this.#options.gracefulShutdownTimeoutMs): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopping';
    this.#lifecycle.stop();
    this.#replacements.clear();
    const stopped = new PoolError(`Pool ${this.name} stopped`, 'pool_stopped', { pool: this.name });
    for (const task of this.#queue.drain()) task.fail(stopped);
    // Calls already running get the same grace to finish before their workers are told to stop.
    await this.#drain(gracefulTimeoutMs);
    await Promise.all(this.#workers.map((w) => w.stop(gracefulTimeoutMs)));
    this.#state = 'stopped';
  }

  /** Waits until no call is in flight, or `timeoutMs` passed. */
  async #drain(timeoutMs: number): Promise<void> {
    if (this.#isIdle() || timeoutMs <= 0) return;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      while (!this.#isIdle()) await once(this, 'idle', { signal });
    } catch {
      // Timed out: the stop goes on and the calls still running fail.
    }
  }

  #isIdle(): boolean {
    return this.#queue.size === 0 && this.#workers.every((w) => w.inflight === 0);
  }

  #isFull(): boolean {
    return this.#workers.filter(isLive).length >= this.#options.size - this.#health.removedSlots;
  }

  #admit(task: Task): void {
    if (this.#health.failFast(this.#workers.some(isLive))) return task.fail(this.#health.unhealthyError(this.name));
    const bound = task.sessionId === undefined ? undefined : this.#sessions.get(task.sessionId);
    const candidates = task.blockedWorkers ? reentrantCandidates(this.#workers, task.blockedWorkers, bound, this.#options.affinity) : this.#workers;
    if (candidates === 'deadlock') {
      this.#stats.errors++;
      return task.fail(
        new PoolError(`Call to ${task.tool} from a host tool would wait for the worker that waits for that host tool (pool ${this.name})`, 'reentrant_deadlock', {
          pool: this.name,
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
        this.#stats.errors++;
        return task.fail(new PoolError(`Worker ${placement.workerId} of session ${String(task.sessionId)} is busy`, 'session_worker_busy', { pool: this.name, workerId: placement.workerId, sessionId: task.sessionId }));
      case 'gone':
        this.#sessions.delete(task.sessionId as string);
        this.#stats.errors++;
        return task.fail(new PoolError(`Worker ${placement.workerId} of session ${String(task.sessionId)} is gone`, 'session_worker_unavailable', { pool: this.name, workerId: placement.workerId, sessionId: task.sessionId }));
      case 'queue':
        if (this.#queue.size >= this.#options.maxQueueSize) {
          this.#stats.poolSaturated++;
          poolSaturated(this.name, task, this.#queue.size, this.#options.maxQueueSize);
          return task.fail(new PoolError(`Pool ${this.name} queue is full (${this.#options.maxQueueSize})`, 'pool_saturated', { pool: this.name, maxQueueSize: this.#options.maxQueueSize }));
        }
        task.requiredWorkerId = placement.workerId;
        this.#queue.push(task);
        callEnqueued(this.name, task, this.#queue.size);
        task.startQueueTimer(this.#options.queueTimeoutMs, () => {
          this.#queue.remove(task);
          this.#stats.queueTimeouts++;
          callQueueTimeout(this.name, task);
          task.fail(new TimeoutError(`Call to ${task.tool} waited in the queue of pool ${this.name} for ${this.#options.queueTimeoutMs} ms`, 'queue_timeout', this.#options.queueTimeoutMs, { pool: this.name, tool: task.tool }));
        });
    }
  }

  #run(task: Task, worker: Worker): void {
    this.#stats.requests++;
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
          this.#options.logger.info(`Retrying idempotent call to ${task.tool} after ${worker.id} crashed`, { pool: this.name, workerId: worker.id });
          this.#stats.retries++;
          task.prepareRetry();
          return this.#admit(task);
        }
        this.#stats.errors++;
        task.fail(err);
      },
    );
  }

  /** Timeout or abort: reject first, then clean up (leave the queue, or cancel in Python). */
  #interrupt(task: Task, error: Error): void {
    if (task.settled) return;
    this.#stats.errors++;
    task.fail(error);
    if (task.worker && task.callId !== undefined) task.worker.cancel(task.callId, this.#options.cancelGraceMs);
    else this.#queue.remove(task);
  }

  /** A worker has a free slot: give it the oldest call it may take (none while its slot is tainted and others serve). */
  #drainTo(worker: Worker): void {
    if (this.#queue.size === 0 || !this.#untainted(this.#workers).includes(worker)) return;
    while (worker.available && this.#queue.size > 0) {
      const task = this.#queue.takeFirst(
        (t) => (t.requiredWorkerId === undefined || t.requiredWorkerId === worker.id) && (!t.blockedWorkers?.has(worker) || worker.hasFreeSlot),
      );
      if (!task) return;
      task.clearQueueTimer();
      callDequeued(this.name, task, worker.id, this.#queue.size);
      this.#run(task, worker);
    }
  }

  /** `workers` minus those of tainted slots, unless no untainted worker is live (a session's own worker stays). */
  #untainted(workers: readonly Worker[], keepId?: string): readonly Worker[] {
    if (!this.#barrier.options.enabled) return workers;
    const now = Date.now();
    return avoidTainted(workers, (w) => this.#barrier.isTainted(this.#slots.get(w), now), keepId);
  }

  /** Starts a worker for `slot`; `restart`: it replaces one that died (counted in `health().restarts`). */
  async #spawnWorker(slot: number, restart = false): Promise<Worker> {
    const id = `${this.name}-${this.#nextWorker++}`;
    const endpoint = this.#endpoints.take();
    try {
      const worker = await startPoolWorker(this.#options, id, endpoint);
      if (this.#state === 'stopping' || this.#state === 'stopped') {
        await worker.stop(this.#options.gracefulShutdownTimeoutMs);
        throw new PoolError(`Pool ${this.name} stopped`, 'pool_stopped');
      }
      this.#workers.push(worker);
      this.#slots.set(worker, slot);
      this.#barrier.track(worker);
      worker.on('idle', () => {
        this.#lifecycle.afterCall(worker);
        this.#drainTo(worker);
        if (this.#isIdle()) this.emit('idle');
      });
      worker.on('drained', () => this.#isIdle() && this.emit('idle'));
      worker.once('exit', (exit) => this.#onWorkerExit(worker, exit));
      worker.on('heartbeat-missed', (miss) => this.emit('worker:heartbeat-missed', toInfo(worker), miss));
      worker.on('heartbeat-recovered', (before) => this.emit('worker:heartbeat-recovered', toInfo(worker), before));
      if (restart) this.#health.restarts++;
      this.emit('worker:ready', toInfo(worker));
      this.#drainTo(worker);
      this.#updateHealth();
      return worker;
    } catch (error) {
      this.#endpoints.release(endpoint);
      throw error;
    }
  }

  /** Recycling: sessions and calls queued for the old worker go to its replacement. */
  #handOver(old: Worker, fresh: Worker): void {
    for (const [session, workerId] of this.#sessions) if (workerId === old.id) this.#sessions.set(session, fresh.id);
    for (const task of this.#queue.values()) if (task.requiredWorkerId === old.id) task.requiredWorkerId = fresh.id;
    this.#drainTo(fresh);
  }

  #onWorkerExit(worker: Worker, exit: WorkerExit): void {
    const index = this.#workers.indexOf(worker);
    if (index >= 0) this.#workers.splice(index, 1);
    this.#endpoints.release(worker.options.endpoint);
    const info = toInfo(worker);
    this.emit('worker:exit', info, exit);
    // Calls that strict affinity pinned to this worker can never run now.
    const gone = new PoolError(`Worker ${worker.id} exited while session calls waited for it`, 'session_worker_unavailable', { pool: this.name, workerId: worker.id });
    for (let task; (task = this.#queue.takeFirst((t) => t.requiredWorkerId === worker.id)); ) {
      this.#stats.errors++;
      task.fail(gone);
    }
    // Its calls have failed with it: no 'idle' from this worker will follow.
    if (this.#isIdle()) this.emit('idle');
    // Stopped on purpose (pool stop, or the end of a recycle): nothing to replace.
    if (this.#state !== 'ready' || (exit.expected && exit.reason === undefined)) return;
    const crash = this.#barrier.classify(worker, exit);
    this.#health.recordCrash(worker.id, crash);
    this.emit('worker:crash', info, crash);
    const slot = this.#slots.get(worker) as number;
    const log = (level: 'warn' | 'error', then: string) => this.#options.logger[level](`${describeExit(worker.id, crash)}; ${then}`, { pool: this.name });
    // While recycling, its replacement is already starting; if that fails, the recycle vacates the slot.
    if (this.#lifecycle.isRecycling(worker)) log('warn', 'its replacement is already starting');
    else if (this.#barrier.onCrash(slot, Date.now()) === 'remove') {
      this.#health.removedSlots++;
      log('error', `it crashed more than ${this.#barrier.options.maxRestarts} times within ${this.#barrier.options.windowSeconds} s: slot removed for good`);
      this.emit('worker:removed', info, crash);
    } else {
      log('warn', 'starting a replacement');
      // Once the taint expires, the slot's worker takes queued calls again.
      const untaint = () => this.#workers.filter((w) => this.#slots.get(w) === slot).forEach((w) => this.#drainTo(w));
      if (this.#barrier.isTainted(slot)) this.#replacements.later(this.#barrier.options.taintMs, untaint);
      this.#replacements.vacate(slot);
    }
    this.#updateHealth();
  }

  /** Emits `health` on a status change; an unhealthy pool with no live worker fails what waits. */
  #updateHealth(): void {
    if (this.#state !== 'ready') return;
    const changed = this.#health.changed(this.health().workers);
    if (changed) this.emit('health', changed);
    if (!this.#health.failFast(this.#workers.some(isLive))) return;
    for (const task of this.#queue.drain()) {
      this.#stats.errors++;
      task.fail(this.#health.unhealthyError(this.name));
    }
  }
}
