/** Turns pushed stream chunks into an AsyncIterable that ends, fails or is abandoned cleanly. */
import type { StreamFlow } from './transport/stream-flow.js';

/**
 * Buffers chunks between a producer (the transport) and a `for await` consumer. Breaking out of
 * the loop calls `onAbandon`, which cancels the call in Python. With a `flow`, every chunk
 * received and taken is reported to it, so the producer waits while the buffer is full.
 */
export class ChunkChannel<T> implements AsyncIterableIterator<T> {
  readonly #buffer: T[] = [];
  #done = false;
  #error: unknown;
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;

  constructor(
    private readonly onAbandon: () => void,
    private readonly flow?: StreamFlow,
  ) {}

  /** Producer: one chunk. */
  push(value: T): void {
    if (this.#done) return;
    this.flow?.received();
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      this.flow?.taken();
      waiter.resolve({ value, done: false });
    } else {
      this.#buffer.push(value);
    }
  }

  /** Producer: the stream ended, with `error` if it failed. */
  end(error?: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (!waiter) return;
    // The waiter takes the error: later next() calls just see the end.
    this.#error = undefined;
    if (error !== undefined) waiter.reject(error);
    else waiter.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#buffer.length > 0) {
      const value = this.#buffer.shift() as T;
      this.flow?.taken();
      return Promise.resolve({ value, done: false });
    }
    if (this.#done) {
      if (this.#error !== undefined) {
        const error = this.#error;
        this.#error = undefined;
        return Promise.reject(error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.#done) {
      this.#done = true;
      this.#buffer.length = 0;
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.resolve({ value: undefined, done: true });
      this.onAbandon();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
