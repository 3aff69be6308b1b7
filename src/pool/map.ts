/**
 * `sp.map` / `sp.mapIterable`: many calls of one tool. The inputs go out in chunks, each chunk one
 * pool call (`Pool.batch`: placed, queued, timed out, retried like any call) that Python runs back to
 * back; results stream back per chunk as they finish and are kept in input order.
 *
 * A map's life: check the options and the inputs → ask the pool whether it takes the tool → keep
 * `concurrency` chunks in flight (the next one leaves as one ends) → settle. In `'fail'` mode the
 * first failing input (or failing chunk) rejects the map and aborts the chunks in flight (queued ones
 * leave the queue, running ones are cancelled in Python before their next input); in `'settle'` mode a
 * failing chunk — a crash, a timeout — gives each of its inputs still without a result that chunk's
 * error, and the map goes on. An abort rejects the map in both modes.
 */
import { performance } from 'node:perf_hooks';
import { AbortError, isSnakepitError, WorkerError } from '../errors.js';
import type { BatchCall } from '../transport/types.js';
import { mapProgressed, mapStarted, mapStopped, type MapEventMeta } from '../telemetry/map-events.js';
import { ChunkSizer } from './chunk-sizer.js';
import { inputArray, resolveMapOptions, type MapCallOptions, type MapProgress, type ResolvedMapOptions } from './map-options.js';
import type { Pool } from './pool.js';
import { newCorrelationId } from '../correlation-id.js';
import type { CallOptions } from './task.js';
import { checkToolArgs } from '../typed/validate-args.js';

/** An input without a result yet. */
const PENDING = Symbol('pending');
/** An input that failed (settle mode): its error is in `errors`. */
const FAILED = Symbol('failed');

type Args = Record<string, unknown>;

/**
 * One chunk, sent as one pool call: the inputs from `start` on (or at `indexes`, when inputs refused
 * on the host are left out); `delivered` of them have a result so far.
 */
class MapChunk implements BatchCall {
  delivered = 0;
  readonly sentAt = performance.now();

  constructor(
    readonly run: MapRun,
    readonly start: number,
    readonly indexes: readonly number[] | undefined,
    readonly items: readonly Args[],
    readonly failFast: boolean,
  ) {}

  /** The input index of the chunk's `k`-th input. */
  index(k: number): number {
    return this.indexes ? this.indexes[k]! : this.start + k;
  }

  /** After a crash and a retry (idempotent calls), only the inputs still without a result go again. */
  inputs(): readonly Args[] {
    return this.delivered === 0 ? this.items : this.items.slice(this.delivered);
  }

  results(values: readonly unknown[], errors: readonly (readonly [number, Error])[] | undefined): void {
    this.run.delivered(this, values, errors);
  }
}

/** One map in progress: chunks in flight, results in input order, its promise or its iterator. */
export class MapRun {
  readonly #pool: Pool;
  readonly #tool: string;
  readonly #inputs: readonly Args[];
  readonly #options: ResolvedMapOptions;
  readonly #settle: boolean;
  readonly #sizer: ChunkSizer;
  /** Chunks in flight at once. */
  readonly #window: number;
  /** Each chunk's call: the caller's options, the map's correlation id, the map's own signal. */
  readonly #call: CallOptions;
  readonly #controller = new AbortController();
  readonly #meta: MapEventMeta;
  readonly #startedAt = performance.now();
  /** Results by input index: a value, `PENDING` or (settle mode) `FAILED`. */
  readonly #values: unknown[];
  readonly #errors = new Map<number, Error>();
  readonly #userSignal: AbortSignal | undefined;
  readonly #onUserAbort = (): void => this.#fail(new AbortError(this.#userSignal?.reason, 'running'));
  /** The inputs to send, by index, when some were refused on the host (`validateArgs`); else all, in order. */
  #order: readonly number[] | undefined;
  /** Position of the next input to send (in `#order`, or in the inputs). */
  #next = 0;
  #inFlight = 0;
  #chunks = 0;
  #done = 0;
  #failed = 0;
  /** Why the map failed (fail mode, abort, a throwing `onProgress`, a consumer that left). */
  #failure: Error | undefined;
  #settled = false;
  /** The iterator's position (the next input it yields); results before it are released. */
  #frontier = 0;
  #iterating = false;
  #wake: (() => void) | undefined;
  #resolve: ((results: unknown[]) => void) | undefined;
  #reject: ((error: Error) => void) | undefined;

  constructor(pool: Pool, tool: string, inputs: Iterable<Args>, options: MapCallOptions) {
    this.#options = resolveMapOptions(options);
    this.#inputs = inputArray(inputs);
    this.#pool = pool;
    this.#tool = tool;
    this.#settle = this.#options.mode === 'settle';
    this.#sizer = new ChunkSizer(this.#options.chunkSize, this.#inputs[0]);
    this.#window = this.#options.concurrency ?? defaultWindow(pool, options.sessionId !== undefined);
    const correlationId = options.correlationId || newCorrelationId();
    this.#call = { ...this.#options.call, correlationId, signal: this.#controller.signal };
    this.#values = new Array<unknown>(this.#inputs.length).fill(PENDING);
    this.#meta = { pool: pool.name, tool, correlationId, mode: this.#options.mode, ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }) };
    this.#userSignal = options.signal;
  }

  /** Runs the map and resolves with every result in input order (settle mode: a `PromiseSettledResult` each). */
  all(): Promise<unknown[]> {
    const promise = new Promise<unknown[]>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#start();
    return promise;
  }

  /** Runs the map and yields each result in input order, sending chunks only as far ahead as the loop has taken. */
  iterate(): AsyncIterableIterator<unknown> {
    this.#iterating = true;
    this.#start();
    const iterator: AsyncIterableIterator<unknown> = {
      next: () => this.#take(),
      return: (value?: unknown) => {
        this.#fail(new AbortError(new Error('map consumer stopped'), 'running'));
        this.#frontier = this.#inputs.length; // later calls of next() end the loop
        this.#release();
        return Promise.resolve({ done: true, value });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Results of `chunk` arrived: kept in place; the first error ends the map in fail mode. */
  delivered(chunk: MapChunk, values: readonly unknown[], errors: readonly (readonly [number, Error])[] | undefined): void {
    if (this.#settled) return;
    const first = chunk.delivered;
    const count = Math.min(values.length, chunk.items.length - first);
    for (let k = 0; k < count; k++) this.#values[chunk.index(first + k)] = values[k];
    let firstError: [number, Error] | undefined;
    for (const [at, error] of errors ?? []) {
      if (at >= count) continue;
      const index = chunk.index(first + at);
      firstError ??= [index, error];
      this.#refuse(index, error);
    }
    chunk.delivered += count;
    this.#done += count;
    if (firstError && !this.#settle) return this.#fail(withIndex(firstError[1], firstError[0]));
    this.#progressed();
  }

  /** Input `index` failed with `error` (the caller counts it done). */
  #refuse(index: number, error: Error): void {
    this.#values[index] = FAILED;
    this.#errors.set(index, error);
    this.#failed++;
  }

  /**
   * With `validateArgs`, inputs that do not fit the tool's parameters are refused on the host, as
   * such a call would be: fail mode rejects the map, settle mode settles them and sends the rest.
   */
  #validate(): boolean {
    const pool = this.#pool;
    if (!pool.config.validateArgs) return true;
    const tools = pool.tools();
    const order: number[] = [];
    for (let i = 0; i < this.#inputs.length; i++) {
      const refused = checkToolArgs(tools, this.#tool, this.#inputs[i]!, pool.name);
      if (refused === undefined) order.push(i);
      else if (!this.#settle) {
        this.#fail(withIndex(refused, i));
        return false;
      } else {
        this.#refuse(i, refused);
        this.#done++;
      }
    }
    if (order.length < this.#inputs.length) this.#order = order;
    return true;
  }

  #start(): void {
    const refused = this.#pool.refusal(this.#tool);
    mapStarted(this.#meta, this.#inputs.length);
    if (refused) return this.#fail(refused);
    if (this.#userSignal?.aborted) return this.#onUserAbort();
    if (!this.#validate()) return;
    if (this.#failed > 0) this.#progressed();
    if (this.#settled) return; // onProgress threw
    this.#userSignal?.addEventListener('abort', this.#onUserAbort, { once: true });
    this.#fill();
    this.#finishIfDone();
  }

  /** Sends chunks while the window has room (and, iterating, while the loop is not too far behind). */
  #fill(): void {
    const order = this.#order;
    const total = order?.length ?? this.#inputs.length;
    while (this.#failure === undefined && this.#inFlight < this.#window && this.#next < total) {
      const size = this.#sizer.next(total - this.#next, this.#window);
      const [start, end] = [this.#next, this.#next + size];
      // An iterator holds results until its loop takes them: no more than the window's worth ahead.
      if (this.#iterating && (order?.[start] ?? start) - this.#frontier >= 2 * this.#window * Math.max(size, this.#sizer.size)) return;
      const indexes = order?.slice(start, end);
      const items = indexes ? indexes.map((i) => this.#inputs[i]!) : this.#inputs.slice(start, end);
      const chunk = new MapChunk(this, start, indexes, items, !this.#settle);
      this.#next = end;
      this.#inFlight++;
      this.#chunks++;
      this.#pool.batch(this.#tool, chunk, this.#call).then(
        () => this.#chunkEnded(chunk, undefined),
        (error: unknown) => this.#chunkEnded(chunk, error instanceof Error ? error : new Error(String(error))),
      );
    }
  }

  #chunkEnded(chunk: MapChunk, error: Error | undefined): void {
    this.#inFlight--;
    if (this.#failure !== undefined || this.#settled) return;
    const missing = chunk.items.length - chunk.delivered;
    if (error === undefined && missing === 0) this.#sizer.record(chunk.items.length, performance.now() - chunk.sentAt);
    else {
      // A chunk that ended without all its results (a crash, a timeout; an ok end is Python's fault).
      error ??= new WorkerError(`Worker ended a batch of ${this.#tool} with ${missing} of its inputs without a result`, 'protocol_error', { tool: this.#tool });
      // A pool that stopped takes no more chunks: the map cannot go on in either mode.
      if (!this.#settle || (isSnakepitError(error) && error.code === 'pool_stopped')) return this.#fail(withIndex(error, chunk.index(chunk.delivered)));
      for (let k = chunk.delivered; k < chunk.items.length; k++) this.#refuse(chunk.index(k), error);
      chunk.delivered = chunk.items.length;
      this.#done += missing;
      this.#progressed();
      if (this.#failure !== undefined) return;
    }
    this.#fill();
    this.#finishIfDone();
  }

  #progressed(): void {
    const progress = this.#progress();
    mapProgressed(this.#meta, progress);
    try {
      this.#options.onProgress?.(progress);
    } catch (error) {
      return this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
    this.#wakeConsumer();
  }

  #finishIfDone(): void {
    if (this.#settled || this.#failure !== undefined || this.#inFlight > 0 || this.#next < (this.#order?.length ?? this.#inputs.length)) return;
    this.#settled = true;
    this.#cleanup();
    mapStopped(this.#meta, this.#startedAt, this.#progress(), this.#chunks, undefined);
    this.#resolve?.(this.#settle ? this.#inputs.map((_, i) => this.#outcome(i)) : this.#values);
    this.#wakeConsumer();
  }

  /** The map fails with `error`: chunks in flight are aborted (their own failures are ignored). */
  #fail(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#failure = error;
    this.#cleanup();
    this.#controller.abort(error);
    mapStopped(this.#meta, this.#startedAt, this.#progress(), this.#chunks, error);
    this.#reject?.(error);
    this.#wakeConsumer();
  }

  #cleanup(): void {
    this.#userSignal?.removeEventListener('abort', this.#onUserAbort);
  }

  #progress(): MapProgress {
    return { done: this.#done, failed: this.#failed, total: this.#inputs.length };
  }

  /** Input `i`'s outcome in settle mode. */
  #outcome(i: number): PromiseSettledResult<unknown> {
    const value = this.#values[i];
    return value === FAILED ? { status: 'rejected', reason: this.#errors.get(i) } : { status: 'fulfilled', value };
  }

  /** The iterator's next result, in input order; after a failure, the results before it, then the error. */
  async #take(): Promise<IteratorResult<unknown>> {
    for (;;) {
      const i = this.#frontier;
      if (i < this.#inputs.length && this.#values[i] !== PENDING) {
        const result = this.#settle ? this.#outcome(i) : this.#values[i];
        if (!this.#settle && result === FAILED) break;
        this.#values[i] = undefined; // taken: the loop holds it now
        this.#errors.delete(i);
        this.#frontier++;
        this.#fill();
        return { done: false, value: result };
      }
      if (i >= this.#inputs.length || this.#failure !== undefined) break;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    const failure = this.#failure;
    if (failure !== undefined && this.#frontier < this.#inputs.length) {
      this.#frontier = this.#inputs.length; // once: later calls end the loop
      this.#release();
      throw failure;
    }
    return { done: true, value: undefined };
  }

  #wakeConsumer(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The loop is done with the map: let go of the results it never took. */
  #release(): void {
    this.#values.length = 0;
    this.#errors.clear();
  }
}

/** The pool's slots (calls its live workers run at once), or one worker's for a session's map (its calls share a worker). */
function defaultWindow(pool: Pool, session: boolean): number {
  const capacities = pool.listWorkers().map((w) => w.capacity);
  if (session) return Math.max(1, capacities[0] ?? 1);
  return Math.max(1, capacities.reduce((a, b) => a + b, 0));
}

/** Names the failing input: `details.index` of a Snakepit error (its own details object). */
function withIndex(error: Error, index: number): Error {
  if (isSnakepitError(error) && error.details.index === undefined) error.details.index = index;
  return error;
}
