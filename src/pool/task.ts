/** One call's life in a pool: its promise, deadline, abort wiring, observer and where it runs. */
import type { ResolvedPoolConfig } from '../config/index.js';
import type { StreamFlow } from '../transport/stream-flow.js';
import type { BatchCall, OutgoingCall } from '../transport/types.js';
import type { Worker } from '../worker/worker.js';
import { clockMs } from '../clock.js';
import { correlationIdOf, nextCorrelationSeq } from '../correlation-id.js';
import { clearDeadline, setDeadline, type Deadline } from './deadlines.js';

/** Per-call options. */
export interface CallOptions {
  /**
   * Deadline for the whole call (queue wait + run), in ms.
   * @default the pool's `toolTimeouts[tool]`, else `defaultTimeoutMs` (60000; streams `defaultStreamTimeoutMs`, 300000)
   */
  timeoutMs?: number;
  /** Aborts the call: a queued call leaves the queue, a running one is cancelled in Python. */
  signal?: AbortSignal;
  /** Routes the call to the session's worker and gives Python `session_context.session_id`. */
  sessionId?: string;
  /** Passed to Python as `session_context.request_metadata`. */
  metadata?: Record<string, unknown>;
  /** Sent with the call (gRPC: the `x-snakepit-correlation-id` header) to tie logs together; unset or `''`: a fresh id. */
  correlationId?: string;
  /**
   * The call may run twice without harm. With the crash barrier on (config `crashBarrier.enabled`,
   * `retry: 'idempotent'`), a call whose worker crashed or hung is retried on another worker, up
   * to `crashBarrier.maxRetries` times, within its original deadline (a stream only if it had
   * delivered no chunk). @default false
   */
  idempotent?: boolean;
  /**
   * Runs the call on this worker of the pool (an id from `listWorkers()`): at once when it has a
   * free slot, else in the queue until it has one. A worker that is not a live worker of the pool
   * (unknown, gone, or draining to go) fails the call with `unknown_worker`, listing the pool's
   * workers; so do calls still queued for it when it goes. Such a call is never retried elsewhere.
   */
  workerId?: string;
}

/** A call's timeout: its own `timeoutMs`, else its tool's (`toolTimeouts`, `'infinity'`: none), else the pool's default for calls or streams. */
export function callTimeoutMs(
  config: Pick<ResolvedPoolConfig, 'toolTimeouts' | 'defaultTimeoutMs' | 'defaultStreamTimeoutMs'>,
  tool: string,
  options: CallOptions,
  streaming: boolean,
): number {
  if (options.timeoutMs !== undefined) return options.timeoutMs;
  // Own keys only: a tool named `constructor` must not find Object's.
  const own = Object.hasOwn(config.toolTimeouts, tool) ? config.toolTimeouts[tool] : undefined;
  if (own !== undefined) return own === 'infinity' ? Infinity : own;
  return streaming ? config.defaultStreamTimeoutMs : config.defaultTimeoutMs;
}

/** Options of a stream whose consumer buffers chunks (`sp.stream()`): its flow control. */
export interface StreamCallOptions extends CallOptions {
  flow?: StreamFlow | undefined;
}

/** Receives streamed items as Python yields them; `metadata`: the chunk object's `.metadata` map, when it has one. */
export type ChunkHandler = (data: unknown, final: boolean, metadata?: Record<string, unknown>) => void;

/** What the pool's dispatcher does when a task's own timer, signal or consumer fires. */
export interface TaskHooks {
  onTimeout(task: Task): void;
  onAbort(task: Task, reason: unknown): void;
  /** The caller's chunk callback threw: the call fails with that error and is cancelled in Python. */
  onChunkError(task: Task, error: unknown): void;
  /** The call waited (in the host queue, or inside a worker before it started) longer than the pool's queue timeout. */
  onQueueTimeout?(task: Task): void;
  /** The call settled (the pool's record of recent calls); `nowMs`: when, if the settler had a `clockMs()` reading. */
  onSettled?(task: Task, ok: boolean, nowMs?: number): void;
}

/** Watches one call from outside the pool (telemetry, the circuit breaker); told before the caller. */
export interface CallObserver {
  /** A chunk reached the caller. */
  chunk?(task: Task): void;
  /** The call settled, before its promise does. Never throws into the pool. */
  settled(task: Task, ok: boolean, outcome: unknown): void;
}

/** Errors thrown by callers' chunk callbacks: theirs, not the pool's (the circuit breaker ignores them). */
const callbackErrors = new WeakSet<object>();

/** True for an error a caller's `onChunk` threw (it failed its call, but says nothing about the pool). */
export function isCallbackError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && callbackErrors.has(error);
}

const fireTimeout = (hooks: TaskHooks, task: Task): void => hooks.onTimeout(task);
const fireQueueTimeout = (hooks: TaskHooks, task: Task): void => hooks.onQueueTimeout?.(task);
let taskCount = 0;

/**
 * A call from admission to settlement; also what its worker's transport sends (`OutgoingCall`).
 * Settles exactly once; later outcomes are ignored.
 */
export class Task implements OutgoingCall {
  readonly promise: Promise<unknown>;
  readonly sessionId: string | undefined;
  /** Python's `request_metadata` (an observer may add the trace context before it is sent). */
  metadata: Record<string, unknown> | undefined;
  /** The number of the correlation id made for it (`correlationIdOf`: the string is made when read); 0 when the caller gave one. */
  readonly correlationSeq: number;
  readonly idempotent: boolean;
  readonly streaming: boolean;
  /** The consumer's buffer level, for the transport's flow control (`sp.stream()` only). */
  readonly flow: StreamFlow | undefined;
  /** Chunks delivered so far. */
  chunks = 0;
  /** Times the call was sent again after its worker crashed. */
  retries = 0;
  /** When the call was made (`clockMs()`). */
  readonly startedAt: number;
  /** `clockMs()` time by which the whole call must finish (Infinity without a timeout). */
  readonly deadlineAt: number;
  /** The call's whole timeout, in ms (Infinity for none). */
  readonly timeoutMs: number;
  settled = false;
  /** Order of creation: the oldest waiting call is taken back first. */
  readonly seq = ++taskCount;
  /** True once it runs on a worker (not waiting in the queue or inside a worker). */
  running = false;
  /** A recall of it is on its way to its worker. */
  recalling = false;
  /** `snakepit.pool.queue.enqueued` was emitted for it and `dequeued` not yet (one pair per wait, however often it moves while waiting). */
  waitAnnounced = false;
  /** The worker the caller chose (`workerId`): the call runs there or fails. */
  readonly workerId: string | undefined;
  /** Set when a queued call waits for one worker (strict affinity, or `workerId`). */
  requiredWorkerId: string | undefined;
  /** Workers blocked in the host-tool chain this call comes from: it may use them only on a free slot. */
  blockedWorkers: ReadonlySet<object> | undefined;
  worker: Worker | undefined;
  callId: number | undefined;
  /** This attempt's transport deadline and session state to restore (set as it is sent). */
  deadlineMs: number | undefined;
  restore: Record<string, unknown> | undefined;
  /** Told of chunks and of the settlement (telemetry, circuit breaker). */
  observer: CallObserver | undefined;
  /** A batch of `sp.map` (many inputs of `tool` in one call); undefined for a call. */
  batch: BatchCall | undefined;
  #correlationId: string | undefined;
  #resolve!: (value: unknown) => void;
  #reject!: (error: Error) => void;
  #callTimer: Deadline<TaskHooks, Task> | undefined;
  #queueTimer: Deadline<TaskHooks, Task> | undefined;
  #signal: AbortSignal | undefined;
  #abortListener: (() => void) | undefined;

  constructor(
    readonly tool: string,
    readonly args: Record<string, unknown>,
    options: CallOptions,
    readonly onChunk: ChunkHandler | undefined,
    timeoutMs: number,
    private readonly hooks: TaskHooks,
  ) {
    this.sessionId = options.sessionId;
    this.metadata = options.metadata;
    // An empty id is no id: it could not tie anything together.
    // A caller from plain JS may pass a number: it travels as its string.
    this.#correlationId = options.correlationId ? String(options.correlationId) : undefined;
    this.correlationSeq = this.#correlationId === undefined ? nextCorrelationSeq() : 0;
    this.idempotent = options.idempotent ?? false;
    this.workerId = options.workerId;
    this.streaming = onChunk !== undefined;
    this.flow = (options as StreamCallOptions).flow;
    this.timeoutMs = timeoutMs;
    const startedAt = (this.startedAt = clockMs()); // the call's one clock reading until it is sent
    this.deadlineAt = Number.isFinite(timeoutMs) ? startedAt + timeoutMs : Infinity;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const signal = options.signal;
    if (signal?.aborted) {
      hooks.onAbort(this, signal.reason);
      return;
    }
    if (signal) {
      this.#signal = signal;
      this.#abortListener = () => hooks.onAbort(this, signal.reason);
      signal.addEventListener('abort', this.#abortListener, { once: true });
    }
    // Arguments, not a closure per call; a shared timer per duration, not one per call (deadlines.ts).
    if (Number.isFinite(timeoutMs)) this.#callTimer = setDeadline<TaskHooks, Task>(timeoutMs, fireTimeout, hooks, this, startedAt);
  }

  /** Sent with the call to tie logs and telemetry together: the caller's `correlationId`, else one made for it. */
  get correlationId(): string {
    return (this.#correlationId ??= correlationIdOf(this.correlationSeq));
  }

  /** One streamed item: to the caller's `onChunk`, counted; none after the call settled, and a throw fails the call (not the worker). */
  chunk(data: unknown, final: boolean, metadata?: Record<string, unknown>): void {
    if (this.settled || !this.onChunk) return;
    this.chunks++;
    try {
      if (metadata === undefined) this.onChunk(data, final);
      else this.onChunk(data, final, metadata);
    } catch (error) {
      if (typeof error === 'object' && error !== null) callbackErrors.add(error);
      this.hooks.onChunkError(this, error);
      return;
    }
    this.observer?.chunk?.(this);
  }

  markRunning(worker: Worker, callId: number): void {
    this.worker = worker;
    this.callId = callId;
  }

  /** Its worker crashed: the call goes back to the pool as if new (same deadline, same promise). */
  prepareRetry(): void {
    this.retries++;
    this.leaveWorker();
  }

  /** It left its worker (to run again, or because it never started there). */
  leaveWorker(): void {
    this.worker = undefined;
    this.callId = undefined;
    this.running = false;
    this.recalling = false;
  }

  /** Starts the wait bound (once: a call back from a worker keeps the time it already waited); `nowMs`: a `clockMs()` reading the caller has. */
  startQueueTimer(timeoutMs: number, nowMs?: number): void {
    if (this.#queueTimer === undefined && !this.settled) this.#queueTimer = setDeadline<TaskHooks, Task>(timeoutMs, fireQueueTimeout, this.hooks, this, nowMs);
  }

  clearQueueTimer(): void {
    clearDeadline(this.#queueTimer);
    this.#queueTimer = undefined;
  }

  /** Settles with `value`; `nowMs`: a `clockMs()` reading of when it ended, if the caller has one. */
  succeed(value: unknown, nowMs?: number): void {
    if (!this.#settle()) return;
    this.hooks.onSettled?.(this, true, nowMs);
    this.observer?.settled(this, true, value);
    this.#resolve(value);
  }

  fail(error: Error): void {
    if (!this.#settle()) return;
    this.hooks.onSettled?.(this, false);
    this.observer?.settled(this, false, error);
    this.#reject(error);
  }

  #settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearDeadline(this.#callTimer);
    this.clearQueueTimer();
    if (this.#abortListener) this.#signal?.removeEventListener('abort', this.#abortListener);
    return true;
  }
}

/** One observer made of two (either may be absent). */
export function combineObservers(a: CallObserver | undefined, b: CallObserver | undefined): CallObserver | undefined {
  if (!a || !b) return a ?? b;
  return {
    chunk(task) {
      a.chunk?.(task);
      b.chunk?.(task);
    },
    settled(task, ok, outcome) {
      a.settled(task, ok, outcome);
      b.settled(task, ok, outcome);
    },
  };
}
