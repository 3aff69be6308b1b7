/** A named pool of Python workers: start-up in batches, calls (through its Dispatcher), crashes, recycling, health. */
import { EventEmitter, once } from 'node:events';
import { clockMs } from '../clock.js';
import { blockedWorkers } from '../host-tools/call-chain.js';
import type { ResolvedPoolConfig } from '../config/index.js';
import { PoolError, TimeoutError } from '../errors.js';
import { PoolCircuit } from '../resilience/pool-circuit.js';
import type { BatchCall, ToolSpec } from '../transport/types.js';
import type { Worker } from '../worker/worker.js';
import { CallRecord, type CallRates, type ToolDurations } from './call-window.js';
import { avoidTainted, CrashBarrier, isLive, withCrashInfo } from './crash-barrier.js';
import { Dispatcher, type DispatchHost } from './dispatcher.js';
import { PoolHealthState, type PoolHealth } from './health.js';
import { LifecycleManager, lifecycleOptions, type RecycleOutcome } from './lifecycle.js';
import { toInfo, workerCounts, type PoolEvents, type PoolOptions, type PoolState, type PoolStats, type WorkerInfo } from './pool-types.js';
import { Replacements } from './replacements.js';
import { Resizer } from './resizer.js';
import { callTimeoutMs, Task, type CallOptions, type ChunkHandler, type StreamCallOptions } from './task.js';
import { ToolCatalog } from './tool-catalog.js';
import { checkToolArgs } from '../typed/validate-args.js';
import { cleanupSessionOn } from './worker-ops.js';
import { ForkLauncher } from './fork-launcher.js';
import { WorkerSlots } from './worker-slots.js';
import { WorkerMembership } from './worker-membership.js';
import { callArgsError } from '../transport/encodable.js';

export type { DrainReason, PoolEvents, PoolOptions, PoolStats, RemoteDrainReason, WorkerInfo } from './pool-types.js';

/**
 * A pool of identical workers. Each worker fills a numbered slot; a replacement (after a crash,
 * or when recycling) takes the slot of the worker it replaces, so crash counts and taints follow
 * the slot.
 */
export class Pool extends EventEmitter<PoolEvents> {
  readonly name: string;
  readonly config: ResolvedPoolConfig;
  readonly #options: PoolOptions;
  readonly #workers: Worker[] = [];
  readonly #slots: WorkerSlots;
  /** `startMode: 'fork'`: forks the pool's spawned workers from its template. */
  readonly #forks: ForkLauncher | undefined;
  readonly #barrier: CrashBarrier;
  readonly #health: PoolHealthState;
  readonly #lifecycle: LifecycleManager;
  readonly #replacements: Replacements;
  readonly #circuit: PoolCircuit;
  readonly #dispatcher: Dispatcher;
  readonly #tools: ToolCatalog;
  /** Starts workers into their slots and handles their exits (crashes included). */
  readonly #members: WorkerMembership;
  /** Grows and shrinks the pool (`resize`, `addWorker`, `removeWorker`). */
  readonly resizer: Resizer;
  /** Every call's duration: the recent window (`recentCalls()`) and by tool (`callDurations()`). */
  readonly #calls = new CallRecord();
  #state: PoolState = 'new';
  #streamsHeld = 0;
  #streamHolds = 0;
  readonly #onStreamHeld = (held: boolean): void => {
    if (held) {
      this.#streamsHeld++;
      this.#streamHolds++;
    } else this.#streamsHeld--;
  };

  constructor(options: PoolOptions) {
    super();
    const config = options.config;
    this.name = config.name;
    this.config = config;
    this.#options = options;
    const logger = options.services.logger;
    const source = options.endpoints;
    if (source.kind === 'spawn' && config.startMode === 'fork') {
      this.#forks = new ForkLauncher({ pool: this.name, endpoint: source.template, startupTimeoutMs: config.poolStartupTimeoutMs, logger });
    }
    this.#slots = new WorkerSlots(this.name, options.endpoints, config.poolSize, {
      join: (slot) => this.#members.spawn(slot),
      restart: (slot) => this.#replacements.vacate(slot),
      changed: () => {
        if (this.#slots.discovery) this.#health.removedSlots = this.#slots.discovery.removed;
        this.#updateHealth();
      },
      workers: () => this.#workers,
      draining: (worker, reason) => this.emit('worker:draining', toInfo(worker), reason),
      stopGraceMs: config.gracefulShutdownTimeoutMs,
      logger: logger.child({ pool: this.name, category: 'discovery' }),
    });
    this.#barrier = new CrashBarrier(options.crashBarrier);
    this.#circuit = new PoolCircuit(options.circuitBreaker, this.name);
    this.#health = new PoolHealthState(() => this.#slots.size);
    this.#tools = new ToolCatalog(this.name);
    const slotOf = (w: Worker) => this.#slots.slotOf(w);
    this.#lifecycle = new LifecycleManager(lifecycleOptions(config), {
      workers: () => this.#workers,
      spawnReplacement: (old) => this.#members.spawn(slotOf(old)),
      handOver: (old, fresh) => this.#dispatcher.handOver(old, fresh),
      resume: (old) => this.#dispatcher.drainTo(old),
      vacate: (old) => this.#replacements.vacate(slotOf(old)),
      recycled: (old, reason, _fresh, memoryMb) => this.emit('worker:recycled', toInfo(old), reason, memoryMb),
      gracefulShutdownTimeoutMs: config.gracefulShutdownTimeoutMs,
      logger: logger.child({ pool: this.name, category: 'lifecycle' }),
    });
    this.#dispatcher = new Dispatcher(this.#dispatchHost(slotOf));
    this.#replacements = new Replacements({
      spawn: (slot) => this.#members.spawn(slot, true),
      active: (slot) => this.#state === 'ready' && !this.#slots.isRetired(slot),
      failed: (error, gaveUp) => {
        this.#health.recordError(error);
        this.emit('worker:restart-failed', error);
        if (!gaveUp) return;
        logger.error(`Pool ${this.name} gave up replacing workers: ${error.message}`, { pool: this.name });
        this.#health.gaveUp = true;
        this.#updateHealth();
      },
    });
    this.#members = new WorkerMembership({
      name: this.name,
      config,
      services: options.services,
      workers: this.#workers,
      slots: this.#slots,
      barrier: this.#barrier,
      health: this.#health,
      tools: this.#tools,
      lifecycle: this.#lifecycle,
      replacements: this.#replacements,
      dispatcher: this.#dispatcher,
      forks: this.#forks,
      events: this,
      state: () => this.#state,
      isIdle: () => this.#isIdle(),
      updateHealth: () => this.#updateHealth(),
    });
    this.resizer = new Resizer({
      name: this.name,
      slots: this.#slots,
      settings: config,
      replacements: this.#replacements,
      lifecycle: this.#lifecycle,
      refusal: () => (this.#state === 'ready' ? undefined : this.#stateError()),
      workers: () => this.#workers,
      spawn: (slot) => this.#members.spawn(slot),
      draining: (worker) => this.emit('worker:draining', toInfo(worker), 'removed'),
      resized: () => {
        this.#health.removedSlots = 0; // a resize sets the slots that serve: removed ones are forgotten
        this.#updateHealth();
      },
    });
  }

  /** Starts every worker, in batches; rejects (after stopping the rest) if any cannot start. */
  async start(): Promise<void> {
    this.#state = 'starting';
    try {
      await this.#slots.fill(this.config, () => this.#state === 'starting', () => new PoolError(`Pool ${this.name} was stopped during start-up`, 'pool_stopped'));
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.#state = 'ready';
    this.#health.changed(this.#workers.length);
    this.#lifecycle.start();
    this.#tools.warnUnknown('toolTimeouts', Object.keys(this.config.toolTimeouts), this.#options.services.logger);
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

  /** Runs a tool: make the task, let observers watch it, admit it. With the circuit breaker on, a failing pool rejects at once with `circuit_open`. */
  execute(tool: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<unknown> {
    return this.#call(tool, args, options, undefined);
  }

  /** Runs a tool as a stream: `onChunk` gets each chunk; resolves after the last one. */
  stream(tool: string, args: Record<string, unknown>, options: StreamCallOptions, onChunk: ChunkHandler): Promise<void> {
    return this.#call(tool, args, options, onChunk) as Promise<void>;
  }

  /** Runs one batch of `sp.map` (src/pool/map.ts): many inputs of `tool` in one call, a task like any other. */
  batch(tool: string, batch: BatchCall, options: CallOptions): Promise<unknown> {
    return this.#call(tool, {}, options, undefined, batch);
  }

  #call(tool: string, args: Record<string, unknown>, options: CallOptions, onChunk: ChunkHandler | undefined, batch?: BatchCall): Promise<unknown> {
    const task = new Task(tool, args, options, onChunk, callTimeoutMs(this.config, tool, options, onChunk !== undefined), this.#dispatcher);
    task.batch = batch;
    if (task.flow) task.flow.onHeld = this.#onStreamHeld;
    task.blockedWorkers = blockedWorkers();
    // Telemetry and the circuit breaker watch the call; an open circuit fails it here.
    this.#circuit.attach(task, this.#options.services.observeCall?.(this.name, task));
    if (task.settled) return task.promise;
    // A batch's inputs were checked one by one by map (src/pool/map.ts).
    const refused = this.refusal(tool) ?? (batch ? undefined : this.#argsError(tool, args));
    if (refused) task.fail(refused);
    else this.#dispatcher.admit(task, false, task.startedAt);
    return task.promise;
  }

  /** Why a call to `tool` cannot be taken at all (pool not running, no such tool), else undefined. */
  refusal(tool: string): Error | undefined {
    if (this.#state !== 'ready') return this.#stateError();
    return this.#tools.refuse(tool);
  }

  /** Why `args` do not fit `tool` (not an object, not matching its types with `validateArgs`), else undefined. */
  #argsError(tool: string, args: Record<string, unknown>): Error | undefined {
    return callArgsError(tool, args) ?? (this.config.validateArgs ? checkToolArgs(this.tools(), tool, args, this.name) : undefined);
  }

  /** Why the pool takes no calls or changes in its state (not started yet, stopping or stopped). */
  #stateError(): PoolError {
    const code = this.#state === 'stopping' || this.#state === 'stopped' ? 'pool_stopped' : 'pool_not_started';
    return new PoolError(`Pool ${this.name} is ${this.#state}`, code, { pool: this.name });
  }

  /** Counters and worker counts. */
  stats(): PoolStats {
    return {
      ...this.#dispatcher.counters,
      // Waiting for a worker: in the host queue, inside a worker behind the calls it runs, or for a retry.
      queued: this.#dispatcher.waiting,
      ...workerCounts(this.#workers),
      recycled: this.#lifecycle.total,
      lifecycle: { ...this.#lifecycle.counts },
      streamsHeld: this.#streamsHeld,
      streamHolds: this.#streamHolds,
      ...(this.#circuit.breaker ? { circuitBreaker: this.#circuit.breaker.stats() } : {}),
    };
  }

  /** Calls per second and latency percentiles over the recent window. */
  recentCalls(now?: number): CallRates {
    return this.#calls.recent.rates(now);
  }

  /** Every call's duration by tool and outcome since the pool started (`snakepit_call_duration_seconds`). */
  callDurations(): IterableIterator<ToolDurations> {
    return this.#calls.durations.entries();
  }

  /** Health status, crash and restart counts, and the last failure (with Python's stderr or traceback). */
  health(): PoolHealth {
    // A worker being recycled still serves its slot until its replacement is ready.
    const health = this.#health.snapshot(this.#workers.filter((w) => isLive(w) || this.#lifecycle.isRecycling(w)).length);
    return this.#circuit.breaker ? { ...health, circuitBreaker: this.#circuit.breaker.state } : health;
  }

  /** A snapshot of each worker. */
  listWorkers(): WorkerInfo[] {
    return this.#workers.map(toInfo);
  }

  /** Tools the workers reported at their handshake. */
  tools(): ToolSpec[] {
    return this.#tools.list();
  }

  /** One tool's spec; an unknown name throws `unknown_tool` listing the available ones. */
  describeTool(name: string): ToolSpec {
    return this.#tools.describe(name);
  }

  /** Replaces a worker by a fresh one without failing a call (see `Snakepit.recycleWorker`). */
  recycleWorker(workerId: string): Promise<RecycleOutcome> {
    if (this.#state !== 'ready') return Promise.reject(new PoolError(`Pool ${this.name} is ${this.#state}`, 'pool_stopped', { pool: this.name }));
    return this.#lifecycle.recycleById(this.name, workerId);
  }

  /** Fork mode: later workers fork from a new template (the adapter's code changed); the old one goes with its last worker. */
  renewForkTemplate(): void {
    this.#forks?.renew(this.config.gracefulShutdownTimeoutMs);
  }

  /** Forgets a session's worker binding. */
  releaseSession(sessionId: string): void {
    this.#dispatcher.releaseSession(sessionId);
  }

  /**
   * Runs the adapter's `cleanup_session` on those of `workerIds` still alive in this pool, and
   * forgets the session's binding. Failures are logged: an ended session must not fail anything.
   */
  async cleanupSession(sessionId: string, workerIds: Iterable<string>): Promise<void> {
    this.#dispatcher.releaseSession(sessionId);
    await cleanupSessionOn(this.#workers, sessionId, workerIds, this.#options.services.logger);
  }

  /** The worker a session is bound to, if any. */
  sessionWorker(sessionId: string): string | undefined {
    return this.#dispatcher.sessionWorker(sessionId);
  }

  /**
   * Stops taking calls, fails queued ones, and stops every worker: SIGTERM, then SIGKILL after
   * `gracefulTimeoutMs` (default: the pool's `gracefulShutdownTimeoutMs`).
   */
  async stop(gracefulTimeoutMs = this.config.gracefulShutdownTimeoutMs): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopping';
    this.#lifecycle.stop();
    this.#slots.stop();
    this.#replacements.clear();
    this.#dispatcher.failQueued(new PoolError(`Pool ${this.name} stopped`, 'pool_stopped', { pool: this.name }), false);
    // Calls already running get the same grace to finish before their workers are told to stop.
    await this.#drain(gracefulTimeoutMs);
    await Promise.all(this.#workers.map((w) => w.stop(gracefulTimeoutMs)));
    await this.#forks?.stop(gracefulTimeoutMs); // its workers are gone: the fork template goes too
    this.#state = 'stopped';
  }

  /** What the dispatcher asks of the pool. */
  #dispatchHost(slotOf: (w: Worker) => number): DispatchHost {
    const { config } = this;
    const { services } = this.#options;
    return {
      name: this.name,
      settings: config,
      logger: services.logger,
      workers: () => this.#workers,
      untainted: (workers, keepId) => {
        if (!this.#barrier.options.enabled) return workers;
        const now = Date.now();
        return avoidTainted(workers, (w) => this.#barrier.isTainted(slotOf(w), now), keepId);
      },
      isRecycling: (w) => this.#lifecycle.isRecycling(w),
      unhealthy: () => (this.#health.failFast(this.#workers.some(isLive)) ? this.#health.unhealthyError(this.name) : undefined),
      // The worker's exit was handled before its calls ended: its crash is known.
      afterFailure: (task, worker, error) => {
        // A remote worker that drains refused the call unstarted: it goes to another worker.
        if (this.#slots.refusedDraining(worker, error)) return { error, retry: false, reroute: true };
        const withCrash = withCrashInfo(error, this.#barrier.crashOf(worker));
        const backoffMs = this.#barrier.retryDelay(task, withCrash);
        return { error: withCrash, retry: backoffMs !== undefined, backoffMs };
      },
      sessionDispatched: (sessionId, worker) => services.onSessionDispatch?.(sessionId, worker),
      sessionRestoreLost: (sessionId, worker) => services.onSessionRestoreLost?.(sessionId, worker),
      settled: (task, ok, endedMs) => {
        const nowMs = endedMs ?? clockMs();
        this.#calls.record(task.tool, nowMs - task.startedAt, ok, nowMs);
      },
      recycleIfDue: (worker) => this.#lifecycle.afterCall(worker),
      checkIdle: () => {
        if (this.#isIdle()) this.emit('idle');
      },
    };
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
    return this.#dispatcher.queued === 0 && this.#workers.every((w) => w.inflight === 0);
  }

  #isFull(): boolean {
    return this.#workers.filter(isLive).length >= this.#slots.size - this.#health.removedSlots;
  }

  /** Emits `health` on a status change; an unhealthy pool with no live worker fails what waits. */
  #updateHealth(): void {
    if (this.#state !== 'ready') return;
    const changed = this.#health.changed(this.health().workers);
    if (changed) this.emit('health', changed);
    if (this.#health.failFast(this.#workers.some(isLive))) this.#dispatcher.failQueued(this.#health.unhealthyError(this.name), true);
  }
}
