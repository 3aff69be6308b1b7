/** One call's life in a pool: its promise, deadline, abort wiring and where it runs. */
import type { StreamFlow } from '../transport/stream-flow.js';
import type { ChunkHandler } from '../transport/types.js';
import type { Worker } from '../worker/worker.js';

/** Per-call options. */
export interface CallOptions {
  /** Deadline for the whole call (queue wait + run), in ms. @default 60000 (300000 for streams) */
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
}

/** Options of a stream whose consumer buffers chunks (`sp.stream()`): its flow control. */
export interface StreamCallOptions extends CallOptions {
  flow?: StreamFlow | undefined;
}

export interface TaskHooks {
  onTimeout(task: Task): void;
  onAbort(task: Task, reason: unknown): void;
  /** The caller's chunk callback threw: the call fails with that error and is cancelled in Python. */
  onChunkError(task: Task, error: unknown): void;
}

/** Errors thrown by callers' chunk callbacks: theirs, not the pool's (the circuit breaker ignores them). */
const callbackErrors = new WeakSet<object>();

/** True for an error a caller's `onChunk` threw (it failed its call, but says nothing about the pool). */
export function isCallbackError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && callbackErrors.has(error);
}

const fireTimeout = (hooks: TaskHooks, task: Task): void => hooks.onTimeout(task);

/** A call from admission to settlement. Settles exactly once; later outcomes are ignored. */
export class Task {
  readonly promise: Promise<unknown>;
  readonly sessionId: string | undefined;
  readonly metadata: Record<string, unknown> | undefined;
  readonly correlationId: string | undefined;
  readonly idempotent: boolean;
  /** `onChunk`, counting the chunks it delivered; none after the call settled, and a throw fails the call (not the worker). */
  readonly chunkSink: ChunkHandler | undefined;
  /** The consumer's buffer level, for the transport's flow control (`sp.stream()` only). */
  readonly flow: StreamFlow | undefined;
  /** Chunks delivered so far. */
  chunks = 0;
  /** Times the call was sent again after its worker crashed. */
  retries = 0;
  /** Epoch ms by which the whole call must finish (Infinity without a timeout). */
  readonly deadlineAt: number;
  /** The call's whole timeout, in ms (Infinity for none). */
  readonly timeoutMs: number;
  settled = false;
  /** Set when strict affinity pins a queued call to one worker. */
  requiredWorkerId: string | undefined;
  /** Workers blocked in the host-tool chain this call comes from: it may use them only on a free slot. */
  blockedWorkers: ReadonlySet<object> | undefined;
  worker: Worker | undefined;
  callId: number | undefined;
  #resolve!: (value: unknown) => void;
  #reject!: (error: Error) => void;
  #callTimer: NodeJS.Timeout | undefined;
  #queueTimer: NodeJS.Timeout | undefined;
  #signal: AbortSignal | undefined;
  #abortListener: (() => void) | undefined;

  constructor(
    readonly tool: string,
    readonly args: Record<string, unknown>,
    options: CallOptions,
    readonly onChunk: ChunkHandler | undefined,
    timeoutMs: number,
    hooks: TaskHooks,
  ) {
    this.sessionId = options.sessionId;
    this.metadata = options.metadata;
    this.correlationId = options.correlationId;
    this.idempotent = options.idempotent ?? false;
    this.flow = (options as StreamCallOptions).flow;
    this.chunkSink = onChunk
      ? (data, final) => {
          if (this.settled) return;
          this.chunks++;
          try {
            onChunk(data, final);
          } catch (error) {
            if (typeof error === 'object' && error !== null) callbackErrors.add(error);
            hooks.onChunkError(this, error);
          }
        }
      : undefined;
    this.timeoutMs = timeoutMs;
    this.deadlineAt = Number.isFinite(timeoutMs) ? Date.now() + timeoutMs : Infinity;
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
    // setTimeout's extra arguments: no closure per call.
    if (Number.isFinite(timeoutMs)) this.#callTimer = setTimeout(fireTimeout, timeoutMs, hooks, this);
  }

  markRunning(worker: Worker, callId: number): void {
    this.worker = worker;
    this.callId = callId;
  }

  /** Its worker crashed: the call goes back to the pool as if new (same deadline, same promise). */
  prepareRetry(): void {
    this.retries++;
    this.worker = undefined;
    this.callId = undefined;
  }

  startQueueTimer(timeoutMs: number, onExpire: () => void): void {
    this.#queueTimer = setTimeout(onExpire, timeoutMs);
  }

  clearQueueTimer(): void {
    clearTimeout(this.#queueTimer);
    this.#queueTimer = undefined;
  }

  /** Told once as the task settles, before its promise (the call's telemetry, with no promise in between). */
  onSettled: ((ok: boolean, outcome: unknown) => void) | undefined;

  succeed(value: unknown): void {
    if (!this.#settle()) return;
    this.onSettled?.(true, value);
    this.#resolve(value);
  }

  fail(error: Error): void {
    if (!this.#settle()) return;
    this.onSettled?.(false, error);
    this.#reject(error);
  }

  #settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.#callTimer);
    this.clearQueueTimer();
    if (this.#abortListener) this.#signal?.removeEventListener('abort', this.#abortListener);
    return true;
  }
}
