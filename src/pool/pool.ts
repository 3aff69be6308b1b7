/** A named pool of Python workers: start-up in batches, crash handling, recycling, health; calls go through its Dispatcher. */
import { EventEmitter, once } from 'node:events';
import { blockedWorkers } from '../bridge/call-chain.js';
import { PoolError, TimeoutError, ValidationError } from '../errors.js';
import type { ChunkHandler, ToolSpec } from '../transport/types.js';
import type { Worker, WorkerExit } from '../worker/worker.js';
import { CrashBarrier, describeExit, isLive } from './crash-barrier.js';
import { Dispatcher, type CallCounters } from './dispatcher.js';
import { HealthTracker, type PoolHealth } from './health.js';
import { LifecycleManager, type RecycleOutcome } from './lifecycle.js';
import { toInfo, type PoolEvents, type PoolOptions, type PoolStats, type WorkerInfo } from './pool-types.js';
import { Replacements } from './replacements.js';
import { Endpoints, cleanupSessionOn, startInBatches, startPoolWorker } from './worker-ops.js';
import { PoolCircuit } from '../resilience/pool-circuit.js';
import { FifoTaskQueue } from './task-queue.js';
import { Task, type CallOptions } from './task.js';
import { traceCall } from '../telemetry/call-events.js';
import { callArgsError } from '../transport/encodable.js';

export type { PoolEvents, PoolOptions, PoolStats, WorkerInfo } from './pool-types.js';

const NO_RECYCLING = { ttlMs: Infinity, maxRequests: Infinity, memoryThresholdMb: undefined, checkIntervalMs: 5_000 };

/** Tool names per worker `tools` list (the list a handshake gave), for the per-call unknown-tool check. */
const toolNameSets = new WeakMap<readonly ToolSpec[], Set<string>>();

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
  readonly #dispatcher: Dispatcher;
  #state: 'new' | 'starting' | 'ready' | 'stopping' | 'stopped' = 'new';
  #nextWorker = 1;
  readonly #stats: CallCounters = { requests: 0, errors: 0, queueTimeouts: 0, poolSaturated: 0, retries: 0, streamHolds: 0 };
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
      resume: (old) => this.#dispatcher.drainTo(old),
      vacate: (old) => this.#replacements.vacate(slotOf(old)),
      recycled: (old, reason) => this.emit('worker:recycled', toInfo(old), reason),
      gracefulShutdownTimeoutMs: options.gracefulShutdownTimeoutMs,
      logger: options.logger.child({ pool: options.name, category: 'lifecycle' }),
    });
    this.#dispatcher = new Dispatcher({
      name: this.name,
      options,
      workers: this.#workers,
      queue: this.#queue,
      sessions: this.#sessions,
      slots: this.#slots,
      counters: this.#stats,
      barrier: this.#barrier,
      health: this.#health,
      lifecycle: this.#lifecycle,
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
    const badArgs = callArgsError(tool, args);
    if (badArgs) return Promise.reject(badArgs);
    const tools = this.#toolNames();
    if (tools && !tools.has(tool)) {
      const available = [...tools].sort();
      return Promise.reject(
        new ValidationError(`Unknown tool '${tool}' in pool ${this.name} (available: ${available.join(', ')})`, 'unknown_tool', { tool, pool: this.name, available }),
      );
    }
    const timeoutMs = options.timeoutMs ?? (onChunk ? this.#options.defaultStreamTimeoutMs : this.#options.defaultTimeoutMs);
    const task = new Task(tool, args, options, onChunk, timeoutMs, this.#dispatcher.taskHooks);
    if (task.flow) task.flow.onHeld = this.#onStreamHeld;
    task.blockedWorkers = blockedWorkers();
    bind?.(task);
    if (!task.settled) this.#dispatcher.admit(task);
    return task.promise;
  }

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
        this.#dispatcher.drainTo(worker);
        if (this.#isIdle()) this.emit('idle');
      });
      worker.on('drained', () => this.#isIdle() && this.emit('idle'));
      worker.once('exit', (exit) => this.#onWorkerExit(worker, exit));
      worker.on('heartbeat-missed', (miss) => this.emit('worker:heartbeat-missed', toInfo(worker), miss));
      worker.on('heartbeat-recovered', (before) => this.emit('worker:heartbeat-recovered', toInfo(worker), before));
      if (restart) this.#health.restarts++;
      this.emit('worker:ready', toInfo(worker));
      this.#dispatcher.drainTo(worker);
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
    this.#dispatcher.drainTo(fresh);
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
      const untaint = () => this.#workers.filter((w) => this.#slots.get(w) === slot).forEach((w) => this.#dispatcher.drainTo(w));
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
