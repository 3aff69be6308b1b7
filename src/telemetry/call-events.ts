/**
 * A call's events: `snakepit.call.start` → (queue events) → `stream.*` → `call.stop` or
 * `call.exception`, all with the call's correlation id. Every call gets a correlation id (the
 * caller's `correlationId`, or a fresh UUID) so that Python and logs can tie back to it.
 */
import { randomUUID } from 'node:crypto';
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

/** What the call's events read from the pool's task: the worker it last ran on. */
interface RunningLike {
  readonly worker: { readonly id: string } | undefined;
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
  const opts = options.correlationId === undefined ? { ...options, correlationId: newCorrelationId() } : options;
  const stream = onChunk !== undefined;
  const startOn = enabled('snakepit.call.start');
  const endOn = enabled('snakepit.call.stop') || enabled('snakepit.call.exception');
  const streamOn = stream && (enabled('snakepit.stream.opened') || enabled('snakepit.stream.message') || enabled('snakepit.stream.closed'));
  const span = tracingEnabled() ? startCallSpan(pool, tool, opts, stream) : undefined;
  // Zero cost with no subscribers: no payload, no timing, no extra promise.
  if (!startOn && !endOn && !streamOn && !span) return run(opts, onChunk);
  const metadata = { pool, tool, correlationId: opts.correlationId as string, stream, ...(opts.sessionId === undefined ? {} : { sessionId: opts.sessionId }) };
  const startedAt = performance.now();
  // Wall time from the monotonic clock read above: one clock read instead of two (Date.now is slow on some VMs).
  if (startOn) emit('snakepit.call.start', { systemTime: performance.timeOrigin + startedAt }, metadata);
  let messages = 0;
  let chunkSink = onChunk;
  if (streamOn && onChunk) {
    emit('snakepit.stream.opened', {}, metadata);
    chunkSink = (data, final) => {
      emit('snakepit.stream.message', { index: messages++ }, metadata);
      onChunk(data, final);
    };
  }
  // The pool hands back its task: the worker that ran the call is known once it settles.
  let task: RunningLike | undefined;
  const promise = run(span?.options ?? opts, chunkSink, (t) => (task = t));
  return promise.then(
    (value) => {
      span?.end();
      const durationMs = performance.now() - startedAt;
      if (streamOn) emit('snakepit.stream.closed', { messages, durationMs }, { ...metadata, ok: true });
      emit('snakepit.call.stop', { durationMs }, { ...metadata, workerId: task?.worker?.id });
      return value;
    },
    (error: unknown) => {
      span?.end(error);
      const durationMs = performance.now() - startedAt;
      if (streamOn) emit('snakepit.stream.closed', { messages, durationMs }, { ...metadata, ok: false });
      const workerId = (error as { details?: { workerId?: string } } | null)?.details?.workerId ?? task?.worker?.id;
      emit('snakepit.call.exception', { durationMs }, { ...metadata, workerId, code: errorCode(error), kind: (error as Error)?.name ?? 'Error' });
      throw error;
    },
  );
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
