/** One Python worker process: spawn, readiness handshake, calls through its transport, stop and kill. */
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import { TimeoutError, WorkerError } from '../errors.js';
import type { Logger } from '../logger.js';
import { killProcessGroup, trackProcess, untrackProcess } from '../process/live-processes.js';
import { PipeTransport } from '../transport/pipe-transport.js';
import type { CallHandle, CallRequest, ChunkHandler, ReadyInfo, ToolSpec, Transport } from '../transport/types.js';

/** Lifecycle: starting → ready ⇄ busy → draining → stopped. */
export type WorkerState = 'starting' | 'ready' | 'busy' | 'draining' | 'stopped';

/** How a worker's process ended. */
export interface WorkerExit {
  exitCode: number | null;
  signal: string | null;
  /** True when the host asked it to stop (stop() or kill()). */
  expected: boolean;
  /** Why the host killed it, when it did. */
  reason?: string;
}

/** Everything needed to spawn one worker. */
export interface WorkerOptions {
  id: string;
  pool: string;
  runId: string;
  python: string;
  adapter: string;
  adapterArgs: readonly string[];
  /** Full environment of the child (already merged). */
  env: Record<string, string>;
  cwd?: string;
  startupTimeoutMs: number;
  /** Calls the worker runs at once (1 for the process profile). */
  capacity: number;
  /** Calls it may hold queued in its pipe beyond `capacity`. @default 0 */
  pipelineDepth?: number;
  logger: Logger;
}

/** The stderr lines kept from start-up, to explain a worker that died before its handshake. */
const STARTUP_STDERR_LINES = 40;
/** How long to wait for the fd 4 stream to drain after the process exited. */
const DRAIN_AFTER_EXIT_MS = 500;

interface WorkerEvents {
  exit: [WorkerExit];
  /** A call slot became free. */
  idle: [];
}

/** Levels of the bridge's `logging` format ("LEVEL name: message"). */
const PYTHON_LOG_LEVELS: Record<string, 'debug' | 'info' | 'warn' | 'error'> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
};

/** The host level of a stderr line: the Python logging level when it has one, else warn. */
function stderrLevel(line: string): 'debug' | 'info' | 'warn' | 'error' {
  const space = line.indexOf(' ');
  return (space > 0 && PYTHON_LOG_LEVELS[line.slice(0, space)]) || 'warn';
}

function spawnWorkerProcess(python: string, args: string[], env: Record<string, string>, cwd: string | undefined) {
  return execa(python, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    env,
    extendEnv: false,
    cwd,
    // Own process group, so stop() can signal the worker and anything it spawned together.
    detached: true,
    buffer: false,
    reject: false,
    // Our own exit hook kills detached groups; execa's cleanup skips detached children.
    cleanup: false,
  });
}

/** A live Python worker. Create with `Worker.start()`. */
export class Worker extends EventEmitter<WorkerEvents> {
  readonly id: string;
  readonly pool: string;
  readonly capacity: number;
  readonly pipelineDepth: number;
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
  readonly #child: ReturnType<typeof spawnWorkerProcess>;
  readonly #transport: Transport;
  readonly #logger: Logger;
  readonly #cancelTimers = new Map<number, NodeJS.Timeout>();
  /** Ids in flight, in send order: Python starts them in this order, `capacity` at a time. */
  readonly #inflightIds = new Set<number>();
  /** Cancelled calls still waiting in the pipe: their grace starts when they start. */
  readonly #deferredCancels = new Map<number, number>();
  #killReason: string | undefined;
  #stopRequested = false;
  #startupStderr: string[] = [];

  private constructor(options: WorkerOptions) {
    super();
    this.id = options.id;
    this.pool = options.pool;
    this.capacity = options.capacity;
    this.pipelineDepth = options.pipelineDepth ?? 0;
    this.#logger = options.logger.child({ workerId: options.id, pool: options.pool });
    const args = [
      '-m', 'snakepit_bridge.server',
      '--adapter', options.adapter,
      '--worker-id', options.id,
      '--max-concurrency', String(options.capacity),
      // The run id on the command line lets a later start find and reap survivors of a crashed host.
      '--snakepit-run-id', options.runId,
      ...options.adapterArgs,
    ];
    this.#child = spawnWorkerProcess(options.python, args, options.env, options.cwd);
    const pid = this.#child.pid;
    if (pid !== undefined) trackProcess(pid);
    this.#transport = new PipeTransport({
      workerId: this.id,
      // execa types fd 3 as output; at run time it is a duplex socket we write frames into.
      output: this.#child.stdio[3] as unknown as Writable,
      input: this.#child.stdio[4] as Readable,
    });
    this.#foldLogs(this.#child.stdout, 'stdout');
    this.#foldLogs(this.#child.stderr, 'stderr');
    this.exited = this.#watchExit();
  }

  /** Spawns a worker and resolves once it is ready; kills it and rejects if it cannot start. */
  static async start(options: WorkerOptions): Promise<Worker> {
    const worker = new Worker(options);
    await worker.#handshake(options.startupTimeoutMs);
    return worker;
  }

  /** OS process id. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** True when the worker can take another call now (a free slot or room in its pipeline). */
  get available(): boolean {
    return (this.state === 'ready' || this.state === 'busy') && this.inflight < this.capacity + this.pipelineDepth;
  }

  /** True when a call sent now starts at once. */
  get hasFreeSlot(): boolean {
    return (this.state === 'ready' || this.state === 'busy') && this.inflight < this.capacity;
  }

  /** Current load as a fraction of capacity. */
  get load(): number {
    return this.inflight / this.capacity;
  }

  /** Sends a call. The returned handle's `result` settles when Python answers or the worker dies. */
  call(request: CallRequest, onChunk?: ChunkHandler): CallHandle {
    this.inflight++;
    this.state = 'busy';
    this.lastActiveAt = Date.now();
    const handle = this.#transport.call(request, onChunk);
    this.#inflightIds.add(handle.id);
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
    };
    handle.result.then(settle, settle);
    return handle;
  }

  /**
   * Asks Python to stop a running call; if it has not let go within `graceMs`, the worker is
   * killed so a runaway call never keeps capacity (the pool replaces it).
   */
  cancel(id: number, graceMs: number): void {
    if (this.#cancelTimers.has(id) || this.#deferredCancels.has(id) || !this.#inflightIds.has(id)) return;
    this.#transport.cancel(id);
    // A call still queued in the pipe is skipped by Python when reached; its grace starts then,
    // so cancelling it never kills a worker that is busy with another, legitimately long call.
    if (this.#isRunning(id)) this.#startGrace(id, graceMs);
    else this.#deferredCancels.set(id, graceMs);
  }

  #isRunning(id: number): boolean {
    let position = 0;
    for (const inflightId of this.#inflightIds) {
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

  /** Liveness round trip through the transport. */
  ping(timeoutMs: number): Promise<void> {
    return this.#transport.ping(timeoutMs);
  }

  /**
   * Graceful stop: SIGTERM to the process group (Python runs `cleanup()`), then SIGKILL after
   * `gracefulTimeoutMs`. Resolves when the process has exited.
   */
  async stop(gracefulTimeoutMs: number): Promise<WorkerExit> {
    if (this.state !== 'stopped') this.state = 'draining';
    this.#stopRequested = true;
    const pid = this.pid;
    if (pid === undefined) return this.exited;
    killProcessGroup(pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        killProcessGroup(pid, 'SIGKILL');
        resolve();
      }, gracefulTimeoutMs);
    });
    await Promise.race([this.exited, forced]);
    clearTimeout(timer);
    return this.exited;
  }

  /** Immediate SIGKILL of the process group; pending calls fail with a worker error. */
  kill(reason: string): void {
    this.#killReason ??= reason;
    const pid = this.pid;
    if (pid !== undefined) killProcessGroup(pid, 'SIGKILL');
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
      const info = await Promise.race([this.#transport.ready, timeout]);
      this.readyInfo = info;
      this.tools = info.tools;
      this.state = 'ready';
      this.#startupStderr = [];
    } catch (error) {
      this.kill('start-up failed');
      await this.exited;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  #foldLogs(stream: Readable | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    // Python output is logs, never protocol: one record per line, tagged with the worker.
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (this.state === 'starting' && name === 'stderr') {
        this.#startupStderr.push(line);
        if (this.#startupStderr.length > STARTUP_STDERR_LINES) this.#startupStderr.shift();
      }
      this.#logger.log(name === 'stderr' ? stderrLevel(line) : 'info', line, { stream: name });
    });
  }

  async #watchExit(): Promise<WorkerExit> {
    const fd4 = this.#child.stdio[4] as Readable;
    const fd4Closed = new Promise<void>((resolve) => fd4.once('close', resolve));
    const result = await this.#child;
    // Frames written just before exit (a `fatal`, a last `error`) may still be in the pipe.
    await Promise.race([fd4Closed, new Promise((resolve) => setTimeout(resolve, DRAIN_AFTER_EXIT_MS).unref())]);
    if (this.pid !== undefined) untrackProcess(this.pid);
    const wasStarting = this.state === 'starting';
    this.state = 'stopped';
    for (const timer of this.#cancelTimers.values()) clearTimeout(timer);
    this.#cancelTimers.clear();
    const exit: WorkerExit = {
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      expected: this.#stopRequested || this.#killReason !== undefined,
      ...(this.#killReason === undefined ? {} : { reason: this.#killReason }),
    };
    const details = { workerId: this.id, exitCode: exit.exitCode, signal: exit.signal, ...(exit.reason ? { reason: exit.reason } : {}) };
    const error = wasStarting
      ? new WorkerError(
          `Worker ${this.id} exited during start-up (code ${String(exit.exitCode)}, signal ${String(exit.signal)})`,
          'worker_start_failed',
          { ...details, stderr: this.#startupStderr.join('\n') },
        )
      : new WorkerError(
          `Worker ${this.id} exited${exit.reason ? ` (${exit.reason})` : ''} with code ${String(exit.exitCode)}, signal ${String(exit.signal)}`,
          'worker_crashed',
          details,
        );
    this.#transport.fail(error);
    this.emit('exit', exit);
    return exit;
  }
}
