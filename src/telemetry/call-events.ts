/**
 * A call's events: `snakepit.call.start` → (queue events) → `stream.*` → `call.stop` or
 * `call.exception`, all with the call's correlation id, from an observer the pool attaches to
 * the call's task (`observeCall`), and the queue events the dispatcher emits.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { CallObserver, Task } from '../pool/task.js';
import { emit, enabled } from './bus.js';
import { startCallSpan, tracingEnabled } from './tracing.js';

/** What the queue events read from a task. */
interface CallLike {
  readonly tool: string;
  readonly correlationId: string | undefined;
  readonly sessionId: string | undefined;
  readonly streaming: boolean;
}

const enqueuedAt = new WeakMap<object, number>();

const meta = (pool: string, task: CallLike) => ({
  pool,
  tool: task.tool,
  correlationId: task.correlationId as string,
  stream: task.streaming,
  ...(task.sessionId === undefined ? {} : { sessionId: task.sessionId }),
});

const errorCode = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * The observer of one call's events, or undefined when nobody listens (zero cost: no payload,
 * no timing). The trace context, when tracing is on, goes into the call's metadata for Python.
 */
export function observeCall(pool: string, task: Task): CallObserver | undefined {
  const stream = task.streaming;
  const startOn = startChannel.hasSubscribers;
  const endOn = stopChannel.hasSubscribers || exceptionChannel.hasSubscribers;
  const streamOn = stream && (enabled('snakepit.stream.opened') || enabled('snakepit.stream.message') || enabled('snakepit.stream.closed'));
  const span = tracingEnabled() ? startCallSpan(pool, task.tool, task, stream) : undefined;
  if (!startOn && !endOn && !streamOn && !span) return undefined;
  if (span?.traceparent) task.metadata = { ...task.metadata, traceparent: span.traceparent };
  const trace = new CallTrace(pool, task.tool, task.correlationId, stream, task.sessionId, streamOn, span);
  if (streamOn) emit('snakepit.stream.opened', {}, trace.metadata);
  return trace;
}

const startChannel = diagnosticsChannel.channel('snakepit.call.start');
const stopChannel = diagnosticsChannel.channel('snakepit.call.stop');
const exceptionChannel = diagnosticsChannel.channel('snakepit.call.exception');

/**
 * One observed call: its metadata (built once), start time and stream count. The stop and
 * exception metadata are fresh objects (a handler may keep the start's), written out in full
 * rather than spread: this runs on every call while anyone listens.
 */
class CallTrace implements CallObserver {
  readonly metadata: { pool: string; tool: string; correlationId: string; stream: boolean; sessionId?: string };
  readonly startedAt: number;
  messages = 0;

  chunk(): void {
    if (this.streamOn) emit('snakepit.stream.message', { index: this.messages++ }, this.metadata);
  }

  settled(task: Task, ok: boolean, outcome: unknown): void {
    // Observing never breaks a call (handlers are guarded by the bus; this guards the rest).
    try {
      if (ok) this.stop(task);
      else this.exception(task, outcome);
    } catch {
      // nothing to do: the call's outcome stands
    }
  }

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

  stop(task: Task): void {
    this.span?.end();
    const durationMs = performance.now() - this.startedAt;
    if (this.streamOn) emit('snakepit.stream.closed', { messages: this.messages, durationMs }, this.#withFields({ ok: true }));
    if (!stopChannel.hasSubscribers) return;
    const { pool, tool, correlationId, stream, sessionId } = this;
    const workerId = task.worker?.id;
    emit('snakepit.call.stop', { durationMs }, sessionId === undefined ? { pool, tool, correlationId, stream, workerId } : { pool, tool, correlationId, stream, sessionId, workerId });
  }

  exception(task: Task, error: unknown): void {
    this.span?.end(error);
    const durationMs = performance.now() - this.startedAt;
    if (this.streamOn) emit('snakepit.stream.closed', { messages: this.messages, durationMs }, this.#withFields({ ok: false }));
    const workerId = (error as { details?: { workerId?: string } } | null)?.details?.workerId ?? task.worker?.id;
    emit('snakepit.call.exception', { durationMs }, this.#withFields({ workerId, code: errorCode(error), category: (error as { category?: string } | null)?.category, kind: (error as Error)?.name ?? 'Error' }));
  }
}

/** The call went to the queue (`queueDepth` counts it). */
export function callEnqueued(pool: string, task: CallLike, queue: { readonly waiting: number }): void {
  if (!enabled('snakepit.pool.queue.enqueued') && !enabled('snakepit.pool.queue.dequeued') && !enabled('snakepit.pool.queue.timeout')) return;
  enqueuedAt.set(task, performance.now());
  // Read only when someone listens: the depth walks the calls waiting inside workers.
  if (enabled('snakepit.pool.queue.enqueued')) emit('snakepit.pool.queue.enqueued', { queueDepth: queue.waiting }, meta(pool, task));
}

/** The call left the queue for `workerId`. */
export function callDequeued(pool: string, task: CallLike, workerId: string, queueDepth: number): void {
  if (!enabled('snakepit.pool.queue.dequeued')) return;
  const waitMs = performance.now() - (enqueuedAt.get(task) ?? performance.now());
  // Not `{ ...meta(), workerId }`: on Node 20 a property after a spread costs ~0.5 µs.
  emit('snakepit.pool.queue.dequeued', { queueDepth, waitMs }, Object.assign(meta(pool, task), { workerId }));
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
