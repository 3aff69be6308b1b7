/** One Python worker: readiness handshake, calls through its transport, cancel graces, stop and kill. */
import { EventEmitter } from 'node:events';
import { TimeoutError, WorkerError } from '../errors.js';
import type { Logger } from '../logger.js';
import { GrpcTransport } from '../transport/grpc/grpc-transport.js';
import { PipeTransport } from '../transport/pipe-transport.js';
import { foldPythonEvents, type TelemetryControl } from '../telemetry/python-events.js';
import { sweepShm } from '../transport/shm.js';
import type { HostRegistration } from '../transport/grpc/host-server.js';
import type { StreamFlow } from '../transport/stream-flow.js';
import type { CallHandle, CallRequest, ChunkHandler, HostRequest, ReadyInfo, ToolSpec, Transport } from '../transport/types.js';
import { HeartbeatMonitor, type HeartbeatMiss, type HeartbeatSettings, type HeartbeatStatus } from './heartbeat.js';
import { spawnArgs, spawnEnv, type AttachedEndpoint, type SpawnedEndpoint, type WorkerExit, type WorkerState } from './endpoints.js';
import { WorkerProcess } from './worker-process.js';

export type { AttachedEndpoint, SpawnedEndpoint, WorkerExit, WorkerState } from './endpoints.js';

/** Everything needed to start one worker. */
export interface WorkerOptions {
  id: string;
  pool: string;
  endpoint: SpawnedEndpoint | AttachedEndpoint;
  startupTimeoutMs: number;
  /** Calls the worker runs at once (1 for the process profile). */
  capacity: number;
  /** Calls it may hold queued in its pipe beyond `capacity`. @default 0 */
  pipelineDepth?: number;
  maxMessageBytes?: number;
  logger: Logger;
  /** Answers the worker's requests to the host (host tools, session state). */
  hostRequests?: ((worker: Worker, request: HostRequest) => Promise<unknown>) | undefined;
  /** gRPC workers call the host back through this server; they register there for a token. */
  hostServer?: HostServerRef | undefined;
  /** Ping the worker once ready; too many misses in a row kill it (code `worker_hung`). @default off */
  heartbeat?: HeartbeatSettings | undefined;
}

/** The part of the host's gRPC server a worker needs. */
export interface HostServerRef {
  readonly address: string;
  registerWorker(handler: (request: HostRequest) => Promise<unknown>, identity?: { id: string; pool: string }): HostRegistration;
}

interface WorkerEvents {
  exit: [WorkerExit];
  /** A call slot became free. */
  idle: [];
  'heartbeat-missed': [HeartbeatMiss];
  /** A pong after `missedBefore` misses in a row. */
  'heartbeat-recovered': [missedBefore: number];
  /** A draining worker's last call ended. */
  drained: [];
}

/** A live Python worker. Create with `Worker.start()`. */
export class Worker extends EventEmitter<WorkerEvents> {
  readonly id: string;
  readonly pool: string;
  readonly capacity: number;
  readonly pipelineDepth: number;
  readonly attached: boolean;
  readonly startedAt = Date.now();
  state: WorkerState = 'starting';
  /** Calls in flight (including cancelled ones Python has not yet let go of). */
  inflight = 0;
  /** Calls completed, successful or not. */
  requests = 0;
  lastActiveAt = Date.now();
  tools: ToolSpec[] = [];
  readyInfo: ReadyInfo | undefined;
  readonly exited: Promise<WorkerExit>;
  readonly #process: WorkerProcess | undefined;
  /** The spawned worker's pipes: its whole protocol (pipe) or its control channel (grpc). */
  readonly #control: PipeTransport | undefined;
  #transport: Transport | undefined;
  #resolveDetached: (() => void) | undefined;
  readonly #cancelTimers = new Map<number, NodeJS.Timeout>();
  /** Ids in flight, in send order (Python starts them in this order, `capacity` at a time), with their request (session, correlation id). */
  readonly #inflightIds = new Map<number, CallRequest>();
  #hostRegistration: HostRegistration | undefined;
  /** Cancelled calls still waiting in the pipe: their grace starts when they start. */
  readonly #deferredCancels = new Map<number, number>();
  #killReason: string | undefined;
  #killCode: 'worker_crashed' | 'worker_hung' = 'worker_crashed';
  #stopRequested = false;
  #heartbeat: HeartbeatMonitor | undefined;
  #unresponsive = false;

  private constructor(readonly options: WorkerOptions) {
    super();
    this.id = options.id;
    this.pool = options.pool;
    this.capacity = options.capacity;
    this.pipelineDepth = options.pipelineDepth ?? 0;
    const endpoint = options.endpoint;
    this.attached = endpoint.kind === 'attach';
    const logger = options.logger.child({ workerId: options.id, pool: options.pool, category: 'worker' });
    if (endpoint.kind === 'spawn') {
      this.#process = new WorkerProcess({ python: endpoint.python, args: spawnArgs(endpoint, this.id, this.capacity), env: spawnEnv(endpoint), cwd: endpoint.cwd, logger });
      this.#control = new PipeTransport({
        workerId: this.id,
        output: this.#process.toPython,
        input: this.#process.fromPython,
        hostRequests: endpoint.transport === 'pipe' ? this.#hostHandler() : undefined,
        onTelemetry: (events) => foldPythonEvents(this.pool, this.id, events),
        payload: endpoint.payload,
      });
      if (endpoint.transport === 'pipe') this.#transport = this.#control;
      // A broken pipe protocol leaves a process that can no longer be talked to: replace it.
      this.#control.onFailure((error) => {
        if (this.state === 'stopped' || this.state === 'starting') return;
        // gRPC: the control channel is how cancels and shutdown reach Python; its calls fail with it.
        if (this.#transport && this.#transport !== this.#control) this.#transport.fail(error);
        this.state = 'draining'; // no new calls while the kill lands
        this.kill(`protocol failure: ${error.message}`);
      });
    }
    this.exited = this.#watchExit();
  }

  /** Spawns (or connects to) a worker and resolves once it is ready; cleans up and rejects if it cannot start. */
  static async start(options: WorkerOptions): Promise<Worker> {
    const worker = new Worker(options);
    await worker.#handshake(options.startupTimeoutMs);
    return worker;
  }

  /** OS process id (of the remote process, for attached workers). */
  get pid(): number | undefined {
    return this.#process?.pid ?? this.readyInfo?.pid;
  }

  /** True when the worker can take another call now (a free slot or room in its pipeline). */
  get available(): boolean {
    return (this.state === 'ready' || this.state === 'busy') && !this.unresponsive && this.inflight < this.capacity + this.pipelineDepth;
  }

  /** True when a call sent now starts at once. */
  get hasFreeSlot(): boolean {
    return (this.state === 'ready' || this.state === 'busy') && !this.unresponsive && this.inflight < this.capacity;
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

  /** Sends a call. The returned handle's `result` settles when Python answers or the worker dies. */
  call(request: CallRequest, onChunk?: ChunkHandler, flow?: StreamFlow): CallHandle {
    this.inflight++;
    this.state = 'busy';
    this.lastActiveAt = Date.now();
    const handle = this.#transport!.call(request, onChunk, flow);
    this.#inflightIds.set(handle.id, request);
    const settle = () => {
      const timer = this.#cancelTimers.get(handle.id);
      if (timer) {
        clearTimeout(timer);
        this.#cancelTimers.delete(handle.id);
      }
      this.#inflightIds.delete(handle.id);
      if (this.#deferredCancels.size > 0) this.#startDeferredGraces();
      this.inflight--;
      this.requests++;
      this.lastActiveAt = Date.now();
      if (this.state === 'busy' && this.inflight === 0) this.state = 'ready';
      if (this.state === 'ready' || this.state === 'busy') this.emit('idle');
      else if (this.state === 'draining' && this.inflight === 0) this.emit('drained');
    };
    handle.result.then(settle, settle);
    return handle;
  }

  /** Stops taking calls (recycling); those in flight finish. False unless it was ready or busy. */
  drain(): boolean {
    if (this.state !== 'ready' && this.state !== 'busy') return false;
    this.state = 'draining';
    return true;
  }

  /** Takes calls again after `drain()` (its replacement could not start). False once stopping. */
  resume(): boolean {
    if (this.state !== 'draining' || this.#stopRequested) return false;
    this.state = this.inflight > 0 ? 'busy' : 'ready';
    return true;
  }

  /**
   * Asks Python to stop a running call; if it has not let go within `graceMs`, the worker is
   * killed so a runaway call never keeps capacity (the pool replaces it).
   */
  cancel(id: number, graceMs: number): void {
    if (this.#cancelTimers.has(id) || this.#deferredCancels.has(id) || !this.#inflightIds.has(id)) return;
    this.#transport?.cancel(id);
    // A call still queued in the pipe is skipped by Python when reached; its grace starts then,
    // so cancelling it never kills a worker that is busy with another, legitimately long call.
    if (this.#isRunning(id)) this.#startGrace(id, graceMs);
    else this.#deferredCancels.set(id, graceMs);
  }

  /**
   * The call `id` if it is running (or queued) on this worker, with its session and correlation
   * id; undefined when no such call is in flight. Host requests from Python name their call: this
   * is how the host learns their session without taking Python's word for it.
   */
  callContext(id: number): { sessionId: string | undefined; correlationId: string | undefined } | undefined {
    const request = this.#inflightIds.get(id);
    return request ? { sessionId: request.sessionId, correlationId: request.correlationId } : undefined;
  }

  /** Runs the adapter's `cleanup_session` hook for a session that ended. */
  cleanupSession(sessionId: string): Promise<void> {
    if (!this.#transport || this.state === 'stopped') return Promise.resolve();
    return this.#transport.cleanupSession(sessionId);
  }

  #hostHandler(): ((request: HostRequest) => Promise<unknown>) | undefined {
    const answer = this.options.hostRequests;
    return answer ? (request) => answer(this, request) : undefined;
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
    if (this.state === 'stopped') return undefined;
    if (this.#transport instanceof GrpcTransport) return this.#transport.configureTelemetry({ ...control });
    if (!this.#control) return undefined;
    this.#control.telemetryControl(control);
    return Promise.resolve();
  }

  /** Liveness round trip through the transport. */
  ping(timeoutMs: number): Promise<void> {
    return this.#transport ? this.#transport.ping(timeoutMs) : Promise.reject(new WorkerError(`Worker ${this.id} is not connected`, 'worker_crashed', { workerId: this.id }));
  }

  /**
   * Graceful stop: SIGTERM to the process group (Python runs `cleanup()`), then SIGKILL after
   * `gracefulTimeoutMs`. An attached worker is only disconnected. Resolves when it is gone.
   */
  async stop(gracefulTimeoutMs: number): Promise<WorkerExit> {
    if (this.state !== 'stopped') this.state = 'draining';
    this.#stopRequested = true;
    this.#heartbeat?.stop();
    if (this.#transport instanceof GrpcTransport) this.#transport.markStopping();
    if (this.#process) await this.#process.stop(gracefulTimeoutMs);
    else this.#detach(new WorkerError(`Worker ${this.id} was disconnected`, 'pool_stopped', { workerId: this.id }));
    return this.exited;
  }

  /**
   * Immediate SIGKILL of the process group (disconnect, for attached workers); pending calls fail
   * with `code` (`worker_hung` when heartbeats gave up on it).
   */
  kill(reason: string, code: 'worker_crashed' | 'worker_hung' = 'worker_crashed'): void {
    if (this.#killReason === undefined) [this.#killReason, this.#killCode] = [reason, code];
    this.#heartbeat?.stop();
    if (this.#process) this.#process.kill();
    else this.#detach(new WorkerError(`Worker ${this.id} was disconnected: ${reason}`, this.#killCode, { workerId: this.id, reason }));
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
    });
  }

  #isRunning(id: number): boolean {
    let position = 0;
    for (const inflightId of this.#inflightIds.keys()) {
      if (inflightId === id) return true;
      if (++position >= this.capacity) return false;
    }
    return false;
  }

  #startDeferredGraces(): void {
    for (const [id, graceMs] of this.#deferredCancels) {
      if (!this.#inflightIds.has(id)) this.#deferredCancels.delete(id);
      else if (this.#isRunning(id)) {
        this.#deferredCancels.delete(id);
        this.#startGrace(id, graceMs);
      }
    }
  }

  #startGrace(id: number, graceMs: number): void {
    const timer = setTimeout(() => {
      this.#cancelTimers.delete(id);
      this.kill(`call ${id} ignored cancellation for ${graceMs} ms`);
    }, graceMs);
    timer.unref();
    this.#cancelTimers.set(id, timer);
  }

  /** Pipe: the ready frame. gRPC: the control channel's ready frame gives the address, then Describe. */
  async #connect(): Promise<ReadyInfo> {
    const endpoint = this.options.endpoint;
    if (endpoint.kind === 'spawn' && endpoint.transport === 'pipe') return this.#control!.ready;
    let address: string;
    let token: string | undefined;
    if (endpoint.kind === 'spawn') {
      const control = await this.#control!.ready;
      if (!control.address) throw new WorkerError(`Worker ${this.id} did not report its gRPC address`, 'protocol_error', { workerId: this.id });
      address = control.address;
      token = endpoint.workerToken;
    } else {
      address = endpoint.address;
      token = endpoint.token;
    }
    const handler = this.#hostHandler();
    if (handler && this.options.hostServer) this.#hostRegistration = this.options.hostServer.registerWorker(handler, { id: this.id, pool: this.pool });
    const grpcTransport = new GrpcTransport({
      workerId: this.id,
      address,
      token,
      connectTimeoutMs: this.options.startupTimeoutMs,
      processBound: endpoint.kind === 'spawn',
      payload: endpoint.payload,
      endpointKey: endpoint.kind === 'attach' ? endpoint : undefined,
      host: this.#hostRegistration ? { address: this.options.hostServer!.address, token: this.#hostRegistration.token } : undefined,
      ...(this.options.maxMessageBytes === undefined ? {} : { maxMessageBytes: this.options.maxMessageBytes }),
    });
    this.#transport = grpcTransport;
    // A spawned worker's death is seen through its process; an attached one's through its channel.
    if (endpoint.kind === 'attach') grpcTransport.onFailure((error) => this.#detach(error));
    return grpcTransport.ready;
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
      const info = await Promise.race([this.#connect(), timeout]);
      this.readyInfo = info;
      this.tools = info.tools;
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

  #startupError: WorkerError | undefined;

  /** Ends an attached worker's life (its process is not ours to watch). */
  #detach(error: Error): void {
    this.#transport?.fail(error);
    this.#resolveDetached?.();
  }

  async #watchExit(): Promise<WorkerExit> {
    let exit: { exitCode: number | null; signal: string | null };
    if (this.#process) exit = await this.#process.exited;
    else {
      await new Promise<void>((resolve) => (this.#resolveDetached = resolve));
      exit = { exitCode: null, signal: null };
    }
    const wasStarting = this.state === 'starting';
    this.state = 'stopped';
    // A worker killed mid-transfer leaves the shm files it wrote and nobody read: its pid names them.
    const endpoint = this.options.endpoint;
    if (this.#process?.pid !== undefined && endpoint.kind === 'spawn' && endpoint.payload?.zeroCopy) {
      const pid = this.#process.pid;
      sweepShm((runId, creator) => runId === endpoint.runId && creator === pid);
    }
    this.#heartbeat?.stop();
    for (const timer of this.#cancelTimers.values()) clearTimeout(timer);
    this.#cancelTimers.clear();
    const result: WorkerExit = {
      ...exit,
      expected: this.#stopRequested || this.#killReason !== undefined,
      ...(this.#killReason === undefined ? {} : { reason: this.#killReason }),
    };
    const details = { workerId: this.id, exitCode: exit.exitCode, signal: exit.signal, ...(result.reason ? { reason: result.reason } : {}) };
    const error = wasStarting
      ? new WorkerError(
          `Worker ${this.id} exited during start-up (code ${String(exit.exitCode)}, signal ${String(exit.signal)})`,
          'worker_start_failed',
          { ...details, stderr: this.#process?.startupStderr ?? '' },
        )
      : new WorkerError(
          `Worker ${this.id} ${this.#process ? 'exited' : 'was disconnected'}${result.reason ? ` (${result.reason})` : ''} with code ${String(exit.exitCode)}, signal ${String(exit.signal)}`,
          this.#killCode,
          details,
        );
    if (wasStarting && this.#process && this.#killReason === undefined) this.#startupError = error;
    this.#control?.fail(error);
    this.#transport?.fail(error);
    this.#hostRegistration?.unregister();
    this.emit('exit', result);
    return result;
  }
}
