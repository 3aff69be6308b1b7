/** One Python worker: readiness handshake, calls and their ends, cancel graces, stop and kill. */
import { EventEmitter } from 'node:events';
import { clockMs } from '../clock.js';
import { TimeoutError, WorkerError } from '../errors.js';
import type { TelemetryControl } from '../telemetry/python-events.js';
import type { OutgoingCall, ReadyInfo, ToolSpec } from '../transport/types.js';
import { CancelGraces } from './cancel-graces.js';
import { WorkerCalls } from './worker-calls.js';
import { Connection } from './connection.js';
import { HeartbeatMonitor, type HeartbeatSettings, type HeartbeatStatus } from './heartbeat.js';
import { spawnArgs, spawnEnv, type WorkerExit, type WorkerState } from './endpoints.js';
import { WorkerEnd, type KillCode } from './worker-end.js';
import { DRAIN_AFTER_EXIT_MS, WorkerProcess, type ProcessExit, type WorkerChild } from './worker-process.js';
import type { WorkerEvents, WorkerOptions, WorkerOwner } from './worker-types.js';

export type { AttachedEndpoint, SpawnedEndpoint, WorkerExit, WorkerState } from './endpoints.js';
export type { HostServerRef } from './connection.js';
export type { WorkerOptions, WorkerOwner } from './worker-types.js';

/** A live Python worker. Create with `Worker.start()`. */
export class Worker extends EventEmitter<WorkerEvents> {
  readonly id: string;
  readonly pool: string;
  /** Calls it runs at once: the pool's setting, or what an attached worker reports at its handshake. */
  capacity: number;
  readonly pipelineDepth: number;
  readonly attached: boolean;
  readonly startedAt = Date.now();
  state: WorkerState = 'starting';
  /** Calls in flight (including cancelled ones Python has not yet let go of). */
  inflight = 0;
  /** Calls completed, successful or not. */
  requests = 0;
  tools: ToolSpec[] = [];
  readyInfo: ReadyInfo | undefined;
  readonly exited: Promise<WorkerExit>;
  readonly #process: WorkerChild | undefined;
  readonly #connection: Connection;
  readonly #owner: WorkerOwner | undefined;
  /** Its stop or kill (and why), and what its exit means. */
  readonly #end: WorkerEnd;
  /** Calls in flight by wire id, in send order: the first `capacity` run, the others wait inside the worker. */
  readonly #calls = new WorkerCalls(() => this.capacity);
  readonly #started = (call: OutgoingCall): void => this.#owner?.callStarted(this, call);
  readonly #stallMs: number;
  readonly #graces: CancelGraces;
  #heartbeat: HeartbeatMonitor | undefined;
  #unresponsive = false;
  #startupError: WorkerError | undefined;
  /** When its last call left it, or it started (ms since the epoch). */
  #idleSince = Date.now();

  private constructor(readonly options: WorkerOptions) {
    super();
    this.id = options.id;
    this.pool = options.pool;
    this.capacity = options.capacity;
    this.pipelineDepth = options.pipelineDepth ?? 0;
    this.#stallMs = options.pipelineStallMs ?? 5;
    this.#owner = options.owner;
    const endpoint = options.endpoint;
    this.attached = endpoint.kind === 'attach';
    const logger = options.logger.child({ workerId: options.id, pool: options.pool, category: 'worker' });
    if (options.child) this.#process = options.child;
    else if (endpoint.kind === 'spawn') {
      this.#process = new WorkerProcess({ python: endpoint.python, args: spawnArgs(endpoint, this.id, this.capacity), env: spawnEnv(endpoint), cwd: endpoint.cwd, logger });
    }
    this.#end = new WorkerEnd(this.id, this.#process);
    this.#graces = new CancelGraces({
      has: (id) => this.#calls.has(id),
      isRunning: (id) => this.#calls.isRunning(id),
      expired: (id, graceMs) => this.kill(`call ${id} ignored cancellation for ${graceMs} ms`),
    });
    const answer = options.hostRequests;
    this.#connection = new Connection({
      workerId: this.id,
      pool: this.pool,
      endpoint,
      process: this.#process,
      events: { ended: (id, ok, outcome) => this.#ended(id, ok, outcome), returned: (id) => this.#returned(id), kept: (id) => this.#kept(id) },
      hostRequests: answer ? (request) => answer(this, request) : undefined,
      hostServer: options.hostServer,
      startupTimeoutMs: options.startupTimeoutMs,
      onFailure: (error) => this.#connectionFailed(error),
    });
    this.exited = this.#watchExit();
  }

  /** Spawns (or connects to) a worker and resolves once it is ready; cleans up and rejects if it cannot start. */
  static async start(options: WorkerOptions): Promise<Worker> {
    const worker = new Worker(options);
    await worker.#handshake(options.startupTimeoutMs);
    return worker;
  }

  /** How its process was started: spawned, forked from the pool's template, or not by the host (attached). */
  get startMode(): 'spawn' | 'fork' | null {
    return this.options.child ? 'fork' : this.attached ? null : 'spawn';
  }

  /** OS process id (of the remote process, for attached workers). */
  get pid(): number | undefined {
    return this.#process?.pid ?? this.readyInfo?.pid;
  }

  /** The spawned process's last stderr lines since start-up (empty for attached workers). */
  get recentStderr(): string {
    return this.#process?.recentStderr ?? '';
  }

  /**
   * True when the worker can take another call now: a free slot, or room in its pipeline while
   * what it runs has run less than `pipelineStallMs` (a call queued behind a long one would wait
   * for it; the host's queue holds it instead, for whichever worker frees first).
   */
  get available(): boolean {
    return this.availableAt(clockMs());
  }

  /** `available`, at `nowMs` (a `clockMs()` reading the caller has: placing a call reads the clock once for every worker). */
  availableAt(nowMs: number): boolean {
    if (!this.hasFreeSlot && (this.state === 'ready' || this.state === 'busy')) {
      return !this.#unresponsive && this.inflight < this.capacity + this.pipelineDepth && this.#calls.longestRunMs(nowMs) < this.#stallMs;
    }
    return this.hasFreeSlot;
  }

  /** When it last ran a call (ms since the epoch): now while it runs one, else when the last one left it (or it started). */
  get lastActiveAt(): number {
    return this.inflight > 0 ? Date.now() : this.#idleSince;
  }

  /** True when what the worker runs has run for `pipelineStallMs` or more while calls wait behind it. */
  get stalled(): boolean {
    return this.#calls.waitingCount > 0 && this.#calls.longestRunMs() >= this.#stallMs;
  }

  /** True when a call sent now starts at once. */
  get hasFreeSlot(): boolean {
    return (this.state === 'ready' || this.state === 'busy') && !this.#unresponsive && this.inflight < this.capacity;
  }

  /**
   * True while a worker of a `heartbeat.dependent: false` pool has missed `maxMissedHeartbeats`
   * pings in a row: it is not killed, but gets no new calls until it answers a ping again.
   */
  get unresponsive(): boolean {
    return this.#unresponsive;
  }

  /** Current load as a fraction of capacity. */
  get load(): number {
    return this.inflight / this.capacity;
  }

  /**
   * Sends a call and returns its wire id; its end reaches the owner (`WorkerOwner.callEnded`), and
   * when it had to wait behind others, its start (`callStarted`). `nowMs`: a `clockMs()` reading the caller has.
   */
  call(call: OutgoingCall, nowMs: number = clockMs()): number {
    this.inflight++;
    this.state = 'busy';
    const id = this.#connection.transport!.call(call);
    this.#calls.add(id, call, nowMs);
    return id;
  }

  /** Asks for call `id` back when it waits (not started): `callReturned` follows if it had not started. */
  recall(id: number): void {
    if (this.#calls.has(id) && !this.#calls.isRunning(id)) this.#connection.transport?.recall(id);
  }

  /** The calls waiting inside the worker (sent, not started), oldest first. */
  waiting(): IterableIterator<[number, OutgoingCall]> {
    return this.#calls.waiting();
  }

  /** Number of calls waiting inside the worker. */
  get waitingCount(): number {
    return this.#calls.waitingCount;
  }

  /** The transport's one event per call: free the slot (the next waiting call starts), then tell the owner. */
  #ended(id: number, ok: boolean, outcome: unknown): void {
    // One clock reading for the call's end and for the start of the call that waited behind it.
    const nowMs = clockMs();
    const call = this.#calls.remove(id, this.#started, nowMs);
    if (!call) return;
    this.requests++;
    this.#left(id);
    this.#owner?.callEnded(this, call, ok, outcome, nowMs);
    if (this.state === 'draining' && this.inflight === 0) this.emit('drained');
  }

  /** Call `id` left unstarted: taken back, or its worker died with it waiting. */
  #returned(id: number): void {
    const call = this.#calls.remove(id, this.#started);
    if (!call) return;
    this.#left(id);
    this.#owner?.callReturned(this, call);
    if (this.state === 'draining' && this.inflight === 0) this.emit('drained');
  }

  #left(id: number): void {
    this.#graces.ended(id);
    this.inflight--;
    if (this.inflight === 0) this.#idleSince = Date.now();
    if (this.state === 'busy' && this.inflight === 0) this.state = 'ready';
  }

  /** Call `id` was asked back too late: it stays (running, or about to). */
  #kept(id: number): void {
    const call = this.#calls.get(id);
    if (call) this.#owner?.callKept(this, call);
  }

  /** Every call still waiting goes back to the owner (the worker is gone, or going): they never ran here. */
  #returnWaiting(): void {
    for (const [id] of [...this.#calls.waiting()]) this.#returned(id);
  }

  /** Stops taking calls (recycling); those in flight finish. False unless it was ready or busy. */
  drain(): boolean {
    if (this.state !== 'ready' && this.state !== 'busy') return false;
    this.state = 'draining';
    return true;
  }

  /** Takes calls again after `drain()` (its replacement could not start). False once stopping. */
  resume(): boolean {
    if (this.state !== 'draining' || this.#end.stopRequested) return false;
    this.state = this.inflight > 0 ? 'busy' : 'ready';
    return true;
  }

  /**
   * Asks Python to stop call `id`; if it has not let go within `graceMs` of starting to run, the
   * worker is killed so a runaway call never keeps capacity (the pool replaces it).
   */
  cancel(id: number, graceMs: number): void {
    if (this.#graces.has(id) || !this.#calls.has(id)) return;
    this.#connection.transport?.cancel(id);
    this.#graces.start(id, graceMs);
  }

  /**
   * The call `id` if it is running (or queued) on this worker, with its session and correlation
   * id; undefined when no such call is in flight. Host requests from Python name their call: this
   * is how the host learns their session without taking Python's word for it.
   */
  callContext(id: number): { sessionId: string | undefined; correlationId: string | undefined } | undefined {
    const call = this.#calls.get(id);
    return call ? { sessionId: call.sessionId, correlationId: call.correlationId } : undefined;
  }

  /** Runs the adapter's `cleanup_session` hook for a session that ended. */
  cleanupSession(sessionId: string): Promise<void> {
    const transport = this.#connection.transport;
    if (!transport || this.state === 'stopped') return Promise.resolve();
    return transport.cleanupSession(sessionId);
  }

  /** Last pong and misses in a row (null / 0 while heartbeats are off or before the first pong). */
  get heartbeat(): HeartbeatStatus {
    return this.#heartbeat?.status() ?? { lastHeartbeatAt: null, missedHeartbeats: 0 };
  }

  /**
   * Sends Python new telemetry settings; nothing restarts. gRPC workers (spawned or attached):
   * `BridgeService.ConfigureTelemetry`, settling once applied; pipe workers: a control frame,
   * which the calls after it follow in order. Undefined when the worker cannot be told.
   */
  telemetryControl(control: TelemetryControl): Promise<unknown> | undefined {
    const transport = this.#connection.transport;
    if (this.state === 'stopped' || !transport) return undefined;
    return transport.configureTelemetry({ ...control });
  }

  /** Liveness round trip through the transport. */
  ping(timeoutMs: number): Promise<void> {
    const transport = this.#connection.transport;
    return transport ? transport.ping(timeoutMs) : Promise.reject(new WorkerError(`Worker ${this.id} is not connected`, 'worker_crashed', { workerId: this.id }));
  }

  /**
   * Graceful stop: SIGTERM to the process group (Python runs `cleanup()`), then SIGKILL after
   * `gracefulTimeoutMs`. An attached worker is only disconnected. Resolves when it is gone.
   */
  async stop(gracefulTimeoutMs: number): Promise<WorkerExit> {
    if (this.state !== 'stopped') this.state = 'draining';
    this.#end.stopRequested = true;
    this.#heartbeat?.stop();
    this.#connection.transport?.stopping();
    if (this.#process) await this.#process.stop(gracefulTimeoutMs);
    else this.#end.detach();
    return this.exited;
  }

  /**
   * Immediate SIGKILL of the process group (disconnect, for attached workers); pending calls fail
   * with `code` (`worker_hung` when heartbeats gave up on it).
   */
  kill(reason: string, code: KillCode = 'worker_crashed'): void {
    this.#end.killed(reason, code);
    this.#heartbeat?.stop();
    if (this.#process) this.#process.kill();
    else this.#end.detach();
  }

  /** The connection broke for good: a spawned worker is killed (no new calls meanwhile), an attached one let go. */
  #connectionFailed(error: Error): void {
    if (!this.#process) {
      if (this.state === 'ready' || this.state === 'busy') this.state = 'draining'; // its calls, failing now, must not come back to it
      this.#returnWaiting(); // before the transport fails them: they never started there
      return this.#end.detach();
    }
    if (this.state === 'stopped' || this.state === 'starting') return;
    this.state = 'draining';
    this.kill(`protocol failure: ${error.message}`);
  }

  #startHeartbeat(settings: HeartbeatSettings | undefined): void {
    if (!settings?.enabled) return;
    this.#heartbeat = new HeartbeatMonitor(settings, {
      ping: (timeoutMs) => this.ping(timeoutMs),
      onMissed: (miss) => this.emit('heartbeat-missed', miss),
      onRecovered: (missedBefore) => {
        this.#unresponsive = false;
        this.emit('heartbeat-recovered', missedBefore);
      },
      onDead: (miss) => this.kill(`heartbeat: ${miss.missed} missed`, 'worker_hung'),
      onUnresponsive: () => {
        this.#unresponsive = true;
      },
      logger: this.options.logger.child({ workerId: this.id, pool: this.pool, category: 'heartbeat' }),
      telemetry: { pool: this.pool, workerId: this.id },
    });
  }

  async #handshake(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(`Worker ${this.id} was not ready within ${timeoutMs} ms`, 'startup_timeout', timeoutMs, { workerId: this.id })),
        timeoutMs,
      );
    });
    try {
      const info = await Promise.race([this.#connection.connect(), timeout]);
      this.readyInfo = info;
      this.tools = info.tools;
      // A remote worker runs as many calls at once as it says (its --max-concurrency), whatever the pool's config.
      if (this.attached && info.concurrency > 0) this.capacity = info.concurrency;
      this.state = 'ready';
      this.#process?.startupDone();
      this.#startHeartbeat(this.options.heartbeat);
    } catch (error) {
      this.kill('start-up failed');
      await this.exited;
      // A process that died before its handshake explains itself better than a closed pipe.
      throw this.#startupError ?? error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #watchExit(): Promise<WorkerExit> {
    let exit: ProcessExit;
    if (this.#process) exit = await this.#process.exited;
    else {
      await this.#end.detached;
      exit = { exitCode: null, signal: null };
    }
    const wasStarting = this.state === 'starting';
    this.state = 'stopped';
    this.#heartbeat?.stop();
    this.#graces.clear();
    // Answers sent just before the exit may still be on their way (gRPC; the pipe's exit waits for its own):
    // they end their calls as answered, so the host's count of which call ran stays right.
    if (this.#process) await this.#connection.transport?.drained?.(DRAIN_AFTER_EXIT_MS);
    this.#end.sweepLeftShm(this.options.endpoint);
    const result = this.#end.result(exit);
    const error = this.#end.error(exit, result, wasStarting);
    if (wasStarting && this.#process && this.#end.killReason === undefined) this.#startupError = error;
    // The exit first (the pool learns the crash), then the calls that waited in the worker go back
    // (they never ran), then those that die with it: a call's retry decision needs the crash.
    this.emit('exit', result);
    this.#returnWaiting();
    this.#connection.close(error);
    return result;
  }
}
