/**
 * A call's events: `snakepit.call.start` → (queue events) → `stream.*` → `call.stop` or
 * `call.exception`, all with the call's correlation id. Every call gets a correlation id (the
 * caller's `correlationId`, or a fresh UUID-shaped id) so that Python and logs can tie back to it.
 */
import { randomUUID } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { CallOptions } from '../pool/task.js';
import type { ChunkHandler } from '../transport/types.js';
import { emit, enabled } from './bus.js';
import { startCallSpan, tracingEnabled } from './tracing.js';

/** What the queue hooks need from a task (the pool's `Task` has these). */
interface CallLike {
  readonly tool: string;
  readonly correlationId: string | undefined;
  readonly sessionId: string | undefined;
  readonly chunkSink: ChunkHandler | undefined;
}

/** What the call's events read from the pool's task: the worker it last ran on, and its settlement. */
interface RunningLike {
  readonly worker: { readonly id: string } | undefined;
  readonly promise?: Promise<unknown>;
  readonly settled?: boolean;
  /** Set by the events: the task calls it as it settles, before its promise. */
  onSettled?: ((ok: boolean, outcome: unknown) => void) | undefined;
}

// A random UUID per process, its last group replaced by a counter: ids stay unique and
// UUID-shaped, and a call costs a counter bump instead of a random UUID.
const ID_PREFIX = randomUUID().slice(0, 24);
let idCounter = 0;

/** A new correlation id: UUID-shaped, this process's random prefix and a call counter. */
export const newCorrelationId = (): string => ID_PREFIX + (++idCounter).toString(16).padStart(12, '0');

const enqueuedAt = new WeakMap<object, number>();

const meta = (pool: string, task: CallLike) => ({
  pool,
  tool: task.tool,
  correlationId: task.correlationId as string,
  stream: task.chunkSink !== undefined,
  ...(task.sessionId === undefined ? {} : { sessionId: task.sessionId }),
});

const errorCode = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * Runs one call with its events. `run` gets the options with the correlation id filled in and
 * the chunk handler (wrapped to count stream messages when anyone listens).
 */
export function traceCall(
  pool: string,
  tool: string,
  options: CallOptions,
  onChunk: ChunkHandler | undefined,
  run: (options: CallOptions, onChunk: ChunkHandler | undefined, bind?: (task: RunningLike) => void) => Promise<unknown>,
): Promise<unknown> {
  // An empty id ties nothing together: it gets a fresh one, like an absent one.
  const opts = options.correlationId ? options : { ...options, correlationId: newCorrelationId() };
  const stream = onChunk !== undefined;
  const startOn = startChannel.hasSubscribers;
  const endOn = stopChannel.hasSubscribers || exceptionChannel.hasSubscribers;
  const streamOn = stream && (enabled('snakepit.stream.opened') || enabled('snakepit.stream.message') || enabled('snakepit.stream.closed'));
  const span = tracingEnabled() ? startCallSpan(pool, tool, opts, stream) : undefined;
  // Zero cost with no subscribers: no payload, no timing, no extra promise.
  if (!startOn && !endOn && !streamOn && !span) return run(opts, onChunk);
  const trace = new CallTrace(pool, tool, opts.correlationId as string, stream, opts.sessionId, streamOn, span);
  let chunkSink = onChunk;
  if (streamOn && onChunk) {
    emit('snakepit.stream.opened', {}, trace.metadata);
    chunkSink = (data, final) => {
      emit('snakepit.stream.message', { index: trace.messages++ }, trace.metadata);
      onChunk(data, final);
    };
  }
  // The pool hands back its task: the worker that ran the call is known once it settles.
  const promise = run(span?.options ?? opts, chunkSink, trace.bind);
  const task = trace.task;
  if (task && task.promise === promise && task.settled === false) {
    // The caller gets the task's own promise: the task tells the events as it settles, so no
    // promise (and no microtask hop) is added to a call while anyone listens.
    task.onSettled = trace.settled;
    return promise;
  }
  return promise.then(
    (value) => {
      trace.stop();
      return value;
    },
    (error: unknown) => {
      trace.exception(error);
      throw error;
    },
  );
}

const startChannel = diagnosticsChannel.channel('snakepit.call.start');
const stopChannel = diagnosticsChannel.channel('snakepit.call.stop');
const exceptionChannel = diagnosticsChannel.channel('snakepit.call.exception');

/**
 * One observed call: its metadata (built once), start time and stream count. The stop and
 * exception metadata are fresh objects (a handler may keep the start's), written out in full
 * rather than spread: this runs on every call while anyone listens.
 */
class CallTrace {
  readonly metadata: { pool: string; tool: string; correlationId: string; stream: boolean; sessionId?: string };
  readonly startedAt: number;
  messages = 0;
  task: RunningLike | undefined;
  readonly bind = (task: RunningLike): void => {
    this.task = task;
  };
  readonly settled = (ok: boolean, outcome: unknown): void => {
    // Observing never breaks a call (handlers are guarded by the bus; this guards the rest).
    try {
      if (ok) this.stop();
      else this.exception(outcome);
    } catch {
      // nothing to do: the call's outcome stands
    }
  };

  constructor(
    readonly pool: string,
    readonly tool: string,
    readonly correlationId: string,
    readonly stream: boolean,
    readonly sessionId: string | undefined,
    readonly streamOn: boolean,
    readonly span: ReturnType<typeof startCallSpan> | undefined,
  ) {
    this.metadata = sessionId === undefined ? { pool, tool, correlationId, stream } : { pool, tool, correlationId, stream, sessionId };
    this.startedAt = performance.now();
    // Wall time from the monotonic clock read above: one clock read instead of two (Date.now is slow on some VMs).
    if (startChannel.hasSubscribers) emit('snakepit.call.start', { systemTime: performance.timeOrigin + this.startedAt }, this.metadata);
  }

  #withFields<T extends object>(extra: T): typeof this.metadata & T {
    const { pool, tool, correlationId, stream, sessionId } = this;
    const base = sessionId === undefined ? { pool, tool, correlationId, stream } : { pool, tool, correlationId, stream, sessionId };
    return Object.assign(base, extra);
  }

  stop(): void {
    this.span?.end();
    const durationMs = performance.now() - this.startedAt;
    if (this.streamOn) emit('snakepit.stream.closed', { messages: this.messages, durationMs }, this.#withFields({ ok: true }));
    if (!stopChannel.hasSubscribers) return;
    const { pool, tool, correlationId, stream, sessionId } = this;
    const workerId = this.task?.worker?.id;
    emit('snakepit.call.stop', { durationMs }, sessionId === undefined ? { pool, tool, correlationId, stream, workerId } : { pool, tool, correlationId, stream, sessionId, workerId });
  }

  exception(error: unknown): void {
    this.span?.end(error);
    const durationMs = performance.now() - this.startedAt;
    if (this.streamOn) emit('snakepit.stream.closed', { messages: this.messages, durationMs }, this.#withFields({ ok: false }));
    const workerId = (error as { details?: { workerId?: string } } | null)?.details?.workerId ?? this.task?.worker?.id;
    emit('snakepit.call.exception', { durationMs }, this.#withFields({ workerId, code: errorCode(error), kind: (error as Error)?.name ?? 'Error' }));
  }
}

/** The call went to the queue (`queueDepth` counts it). */
export function callEnqueued(pool: string, task: CallLike, queueDepth: number): void {
  if (!enabled('snakepit.pool.queue.enqueued') && !enabled('snakepit.pool.queue.dequeued') && !enabled('snakepit.pool.queue.timeout')) return;
  enqueuedAt.set(task, performance.now());
  emit('snakepit.pool.queue.enqueued', { queueDepth }, meta(pool, task));
}

/** The call left the queue for `workerId`. */
export function callDequeued(pool: string, task: CallLike, workerId: string, queueDepth: number): void {
  if (!enabled('snakepit.pool.queue.dequeued')) return;
  const waitMs = performance.now() - (enqueuedAt.get(task) ?? performance.now());
  emit('snakepit.pool.queue.dequeued', { queueDepth, waitMs }, { ...meta(pool, task), workerId });
}

/** The call waited in the queue for longer than the pool's queue timeout. */
export function callQueueTimeout(pool: string, task: CallLike): void {
  if (!enabled('snakepit.pool.queue.timeout')) return;
  emit('snakepit.pool.queue.timeout', { waitMs: performance.now() - (enqueuedAt.get(task) ?? performance.now()) }, meta(pool, task));
}

/** The queue was full: the call is rejected with `pool_saturated`. */
export function poolSaturated(pool: string, task: CallLike, queueDepth: number, maxQueueSize: number): void {
  if (enabled('snakepit.pool.saturated')) emit('snakepit.pool.saturated', { queueDepth, maxQueueSize }, meta(pool, task));
}
