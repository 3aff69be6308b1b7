/**
 * Host-side spans (the original's `Telemetry.Span`): `<name>.start` before some work,
 * `<name>.stop` with its duration after it, or `<name>.exception` when it throws or rejects.
 * `name` is usually the application's own (`myapp.index`); with nobody listening a span costs a
 * name check and two `hasSubscribers` reads.
 */
import { performance } from 'node:perf_hooks';
import { checkEventName, emit, enabled } from './bus.js';
import type { Metadata } from './catalog.js';

/** A span begun with `startSpan`: end it with `endSpan` or `endSpanException`. */
export interface SpanRef {
  /** The prefix of its events (`myapp.index` emits `myapp.index.start`, `.stop`, `.exception`). */
  readonly name: string;
  /** Unique within the process; in the metadata of all three events. */
  readonly spanId: string;
  /** `performance.now()` at the start. */
  readonly startedAt: number;
  readonly metadata: Metadata;
}

let spanCounter = 0;

/**
 * Begins a span: emits `<name>.start` with `systemTime` (epoch ms) and `metadata` plus `spanId`.
 * A name under `snakepit.` is refused (`unknown_event`): that catalogue is closed.
 * @example const ref = telemetry.startSpan('myapp.load', { file }); …; telemetry.endSpan(ref, { rows });
 */
export function startSpan(name: string, metadata: Metadata = {}): SpanRef {
  // Checked here, so a bad name fails before any work (the three names share their prefix).
  const start = `${name}.start`;
  checkEventName(start);
  const ref: SpanRef = { name, spanId: (++spanCounter).toString(16), startedAt: performance.now(), metadata };
  if (enabled(start)) emit(start, { systemTime: performance.timeOrigin + ref.startedAt }, { ...metadata, spanId: ref.spanId });
  return ref;
}

/** Ends a span: `<name>.stop` with `durationMs`, the start's metadata and `extra` merged in. */
export function endSpan(ref: SpanRef, extra: Metadata = {}): void {
  const stop = `${ref.name}.stop`;
  if (enabled(stop)) emit(stop, { durationMs: performance.now() - ref.startedAt }, { ...ref.metadata, ...extra, spanId: ref.spanId });
}

/**
 * Ends a span that failed: `<name>.exception` with `durationMs`; metadata adds `kind` (the error's
 * name), `reason` (its message) and `code` for a `SnakepitError`.
 */
export function endSpanException(ref: SpanRef, error: unknown, extra: Metadata = {}): void {
  const exception = `${ref.name}.exception`;
  if (!enabled(exception)) return;
  const e = error as { name?: unknown; message?: unknown; code?: unknown } | null;
  const failure: Metadata = {
    kind: typeof e?.name === 'string' ? e.name : typeof error,
    reason: typeof e?.message === 'string' ? e.message : String(error),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
  };
  emit(exception, { durationMs: performance.now() - ref.startedAt }, { ...ref.metadata, ...extra, ...failure, spanId: ref.spanId });
}

/**
 * Runs `fn` inside a span and returns what it returns: for a promise, the span ends when it
 * settles (and the same promise's outcome is returned); a throw or rejection emits
 * `<name>.exception` and is passed on unchanged.
 * @example const index = await telemetry.span('myapp.index', () => buildIndex(docs), { docs: docs.length });
 */
export function span<T>(name: string, fn: () => T, metadata: Metadata = {}): T {
  const ref = startSpan(name, metadata);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    endSpanException(ref, error);
    throw error;
  }
  if (!isThenable(result)) {
    endSpan(ref);
    return result;
  }
  return result.then(
    (value: unknown) => {
      endSpan(ref);
      return value;
    },
    (error: unknown) => {
      endSpanException(ref, error);
      throw error;
    },
  ) as T;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
