/** A named pool of Python workers: start-up in batches, FIFO queue, placement, timeouts, abort, crash replacement. */
import { EventEmitter, once } from 'node:events';
import { blockedWorkers } from '../bridge/call-chain.js';
import { AbortError, PoolError, TimeoutError, ValidationError, isSnakepitError } from '../errors.js';
import type { ChunkHandler, ToolSpec } from '../transport/types.js';
import { Worker, type AttachedEndpoint, type SpawnedEndpoint, type WorkerExit } from '../worker/worker.js';
import { toInfo, type PoolEvents, type PoolOptions, type PoolStats, type WorkerInfo } from './pool-types.js';
import { place, reentrantCandidates } from './scheduler.js';
import { FifoTaskQueue } from './task-queue.js';
import { Task, type CallOptions } from './task.js';

export type { PoolEvents, PoolOptions, PoolStats, WorkerInfo } from './pool-types.js';


/** After this many failed replacements in a row the pool stops respawning (no crash storm). */
const MAX_CONSECUTIVE_RESTART_FAILURES = 5;
const RESTART_BACKOFF_BASE_MS = 200;
const RESTART_BACKOFF_MAX_MS = 10_000;
/** Slack between the cancel grace and the transport deadline that backs up a call timeout. */
const TRANSPORT_DEADLINE_MARGIN_MS = 1_000;

/** A pool of identical workers. */
export class Pool extends EventEmitter<PoolEvents> {
  readonly name: string;
  readonly #options: PoolOptions;
  readonly #workers: Worker[] = [];
  readonly #queue = new FifoTaskQueue<Task>();
  readonly #sessions = new Map<string, string>();
  readonly #attachedInUse = new Set<string>();
  #state: 'new' | 'starting' | 'ready' | 'stopping' | 'stopped' = 'new';
  #nextWorker = 1;
  #restartFailures = 0;
  #pendingStarts = 0;
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  #stats = { requests: 0, errors: 0, queueTimeouts: 0, poolSaturated: 0 };

  constructor(options: PoolOptions) {
    super();
    this.name = options.name;
    this.#options = options;
  }

  /** Starts every worker, in batches; rejects (after stopping the rest) if any cannot start. */
  async start(): Promise<void> {
    this.#state = 'starting';
    const { size, startupBatchSize, startupBatchDelayMs } = this.#options;
    try {
      for (let started = 0; started < size; started += startupBatchSize) {
        if (started > 0) await new Promise((resolve) => setTimeout(resolve, startupBatchDelayMs));
        if (this.#state !== 'starting') throw new PoolError(`Pool ${this.name} was stopped during start-up`, 'pool_stopped');
        const batch = Math.min(startupBatchSize, size - started);
        const results = await Promise.allSettled(Array.from({ length: batch }, () => this.#spawnWorker()));
        const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failure) throw failure.reason;
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.#state = 'ready';
  }

  /** Resolves once every worker slot is filled by a ready worker; rejects after `timeoutMs`. */
  async awaitReady(timeoutMs: number): Promise<void> {
    if (this.#isFull()) return;
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        if (!this.#isFull()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new TimeoutError(`Pool ${this.name} was not ready within ${timeoutMs} ms`, 'startup_timeout', timeoutMs, { pool: this.name }));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('worker:ready', onReady);
      };
      this.on('worker:ready', onReady);
    });
  }

  /** Resolves when no call is in flight or queued (cancelled calls count until Python lets go). */
  async onIdle(): Promise<void> {
    while (!this.#isIdle()) await once(this, 'idle');
  }

  /** Runs a tool. With `onChunk`, runs it as a stream and resolves after the last chunk. */
  execute(tool: string, args: Record<string, unknown>, options: CallOptions = {}, onChunk?: ChunkHandler): Promise<unknown> {
    if (this.#state !== 'ready') {
      const code = this.#state === 'stopping' || this.#state === 'stopped' ? 'pool_stopped' : 'pool_not_started';
      return Promise.reject(new PoolError(`Pool ${this.name} is ${this.#state}`, code, { pool: this.name }));
    }
    const tools = this.#workers.find((w) => w.readyInfo)?.tools;
    if (tools && !tools.some((t) => t.name === tool)) {
      const available = tools.map((t) => t.name).sort();
      return Promise.reject(
        new ValidationError(`Unknown tool '${tool}' in pool ${this.name} (available: ${available.join(', ')})`, 'unknown_tool', { tool, pool: this.name, available }),
      );
    }
    const timeoutMs = options.timeoutMs ?? (onChunk ? this.#options.defaultStreamTimeoutMs : this.#options.defaultTimeoutMs);
    const task = new Task(tool, args, options, onChunk, timeoutMs, {
      onTimeout: (t) => this.#interrupt(t, new TimeoutError(`Call to ${tool} timed out after ${timeoutMs} ms`, 'call_timeout', timeoutMs, { tool, pool: this.name })),
      onAbort: (t, reason) => this.#interrupt(t, new AbortError(reason, t.worker ? 'running' : 'queued')),
    });
    task.blockedWorkers = blockedWorkers();
    if (!task.settled) this.#admit(task);
    return task.promise;
  }

  /** Counters and worker counts. */
  stats(): PoolStats {
    let available = 0;
    let busy = 0;
    for (const w of this.#workers) {
      if (w.hasFreeSlot) available++;
      if (w.inflight > 0) busy++;
    }
    return { ...this.#stats, queued: this.#queue.size, workers: this.#workers.length, available, busy };
  }

  /** A snapshot of each worker. */
  listWorkers(): WorkerInfo[] {
    return this.#workers.map(toInfo);
  }

  /** Tools the workers reported at their handshake. */
  tools(): ToolSpec[] {
    return this.#workers[0]?.tools ?? [];
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
    const ids = new Set(workerIds);
    await Promise.all(
      this.#workers
        .filter((w) => ids.has(w.id))
        .map((w) =>
          w.cleanupSession(sessionId).catch((error: unknown) => {
            this.#options.logger.warn(`cleanup_session(${sessionId}) failed on ${w.id}: ${(error as Error).message}`, { pool: this.name, workerId: w.id });
          }),
        ),
    );
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
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    const stopped = new PoolError(`Pool ${this.name} stopped`, 'pool_stopped', { pool: this.name });
    for (const task of this.#queue.drain()) task.fail(stopped);
    await Promise.all(this.#workers.map((w) => w.stop(gracefulTimeoutMs)));
    this.#state = 'stopped';
  }

  #isIdle(): boolean {
    return this.#queue.size === 0 && this.#workers.every((w) => w.inflight === 0);
  }

  #isFull(): boolean {
    return this.#workers.filter((w) => w.state === 'ready' || w.state === 'busy').length >= this.#options.size;
  }

  #admit(task: Task): void {
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
    const placement = place(candidates, bound, this.#options.affinity);
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
          return task.fail(new PoolError(`Pool ${this.name} queue is full (${this.#options.maxQueueSize})`, 'pool_saturated', { pool: this.name, maxQueueSize: this.#options.maxQueueSize }));
        }
        task.requiredWorkerId = placement.workerId;
        this.#queue.push(task);
        task.startQueueTimer(this.#options.queueTimeoutMs, () => {
          this.#queue.remove(task);
          this.#stats.queueTimeouts++;
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
      task.onChunk,
    );
    task.markRunning(worker, handle.id);
    handle.result.then(
      (value) => task.succeed(value),
      (error: unknown) => {
        if (restore !== undefined) this.#options.onSessionRestoreLost?.(task.sessionId as string, worker);
        if (!task.settled) this.#stats.errors++;
        task.fail(error instanceof Error ? error : new Error(String(error)));
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

  /** A worker has a free slot: give it the oldest call it may take. */
  #drainTo(worker: Worker): void {
    while (worker.available && this.#queue.size > 0) {
      const task = this.#queue.takeFirst(
        (t) => (t.requiredWorkerId === undefined || t.requiredWorkerId === worker.id) && (!t.blockedWorkers?.has(worker) || worker.hasFreeSlot),
      );
      if (!task) return;
      task.clearQueueTimer();
      this.#run(task, worker);
    }
  }

  async #spawnWorker(): Promise<Worker> {
    const id = `${this.name}-${this.#nextWorker++}`;
    const endpoint = this.#nextEndpoint();
    if (endpoint.kind === 'attach') this.#attachedInUse.add(endpoint.address);
    this.#pendingStarts++;
    try {
      const worker = await Worker.start({
        id,
        endpoint,
        startupTimeoutMs: this.#options.startupTimeoutMs,
        ...(this.#options.maxMessageBytes === undefined ? {} : { maxMessageBytes: this.#options.maxMessageBytes }),
        pool: this.name,
        capacity: this.#options.capacityPerWorker,
        pipelineDepth: this.#options.pipelineDepth,
        logger: this.#options.logger,
        hostRequests: this.#options.hostRequests,
        hostServer: this.#options.hostServer,
      });
      if (this.#state === 'stopping' || this.#state === 'stopped') {
        await worker.stop(this.#options.gracefulShutdownTimeoutMs);
        throw new PoolError(`Pool ${this.name} stopped`, 'pool_stopped');
      }
      this.#workers.push(worker);
      worker.on('idle', () => {
        this.#drainTo(worker);
        if (this.#isIdle()) this.emit('idle');
      });
      worker.once('exit', (exit) => this.#onWorkerExit(worker, exit));
      this.emit('worker:ready', toInfo(worker));
      this.#drainTo(worker);
      return worker;
    } catch (error) {
      if (endpoint.kind === 'attach') this.#attachedInUse.delete(endpoint.address);
      throw error;
    } finally {
      this.#pendingStarts--;
    }
  }

  /** The spawn template, or the first attached address no live or starting worker holds. */
  #nextEndpoint(): SpawnedEndpoint | AttachedEndpoint {
    const source = this.#options.endpoints;
    if (source.kind === 'spawn') return source.template;
    const free = source.workers.find((w) => !this.#attachedInUse.has(w.address));
    if (!free) throw new PoolError(`Pool ${this.name} has no free attached worker slot`, 'pool_saturated', { pool: this.name });
    return free;
  }

  #onWorkerExit(worker: Worker, exit: WorkerExit): void {
    const index = this.#workers.indexOf(worker);
    if (index >= 0) this.#workers.splice(index, 1);
    if (worker.options.endpoint.kind === 'attach') this.#attachedInUse.delete(worker.options.endpoint.address);
    this.emit('worker:exit', toInfo(worker), exit);
    // Calls that strict affinity pinned to this worker can never run now.
    const gone = new PoolError(`Worker ${worker.id} exited while session calls waited for it`, 'session_worker_unavailable', { pool: this.name, workerId: worker.id });
    for (let task; (task = this.#queue.takeFirst((t) => t.requiredWorkerId === worker.id)); ) {
      this.#stats.errors++;
      task.fail(gone);
    }
    if (this.#state !== 'ready') return;
    if (!exit.expected || exit.reason !== undefined) {
      this.#options.logger.warn(`Worker ${worker.id} exited (code ${String(exit.exitCode)}, signal ${String(exit.signal)}${exit.reason ? `, ${exit.reason}` : ''}); starting a replacement`, { pool: this.name });
    }
    this.#scheduleReplacement(0);
  }

  #scheduleReplacement(delayMs: number): void {
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      if (this.#state !== 'ready' || this.#workers.length + this.#pendingStarts >= this.#options.size) return;
      this.#spawnWorker().then(
        () => {
          this.#restartFailures = 0;
        },
        (error: unknown) => {
          if (this.#state !== 'ready') return;
          this.#restartFailures++;
          const err = error instanceof Error ? error : new Error(String(error));
          this.emit('worker:restart-failed', err);
          // An adapter that cannot even import will not get better by retrying in a loop.
          const hopeless = isSnakepitError(err) && err.code === 'adapter_import';
          if (hopeless || this.#restartFailures >= MAX_CONSECUTIVE_RESTART_FAILURES) {
            this.#options.logger.error(`Pool ${this.name} gave up replacing workers: ${err.message}`, { pool: this.name });
            return;
          }
          this.#scheduleReplacement(Math.min(RESTART_BACKOFF_BASE_MS * 2 ** this.#restartFailures, RESTART_BACKOFF_MAX_MS));
        },
      );
    }, delayMs);
    this.#restartTimers.add(timer);
  }
}

