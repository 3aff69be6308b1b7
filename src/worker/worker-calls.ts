/**
 * A worker's calls in flight, in send order, and which of them run: Python starts calls in the
 * order they arrive, `capacity` at a time, so the first `capacity` calls in flight run and the
 * others wait inside the worker (pipelined) until one ahead of them ends or leaves.
 */
import { performance } from 'node:perf_hooks';
import type { OutgoingCall } from '../transport/types.js';

export class WorkerCalls {
  /** Every call in flight by wire id, in send order. */
  readonly #calls = new Map<number, OutgoingCall>();
  /** The running ones: wire id -> when it started (`performance.now()`). */
  readonly #running = new Map<number, number>();

  /** @param capacity calls the worker runs at once (read each time: a remote worker reports its own). */
  constructor(private readonly capacity: () => number) {}

  get size(): number {
    return this.#calls.size;
  }

  get(id: number): OutgoingCall | undefined {
    return this.#calls.get(id);
  }

  has(id: number): boolean {
    return this.#calls.has(id);
  }

  /** True while call `id` runs (not waiting behind others). */
  isRunning(id: number): boolean {
    return this.#running.has(id);
  }

  /** A call was sent; true when it starts at once (a free slot), false when it waits in the worker. */
  add(id: number, call: OutgoingCall): boolean {
    this.#calls.set(id, call);
    if (this.#running.size >= this.capacity()) return false;
    this.#running.set(id, performance.now());
    return true;
  }

  /**
   * Call `id` left the worker (it ended, or was taken back before it started). A running one frees
   * its slot: the next waiting calls start, each told to `onStarted`.
   */
  remove(id: number, onStarted: (call: OutgoingCall) => void): OutgoingCall | undefined {
    const call = this.#calls.get(id);
    if (!call) return undefined;
    this.#calls.delete(id);
    if (!this.#running.delete(id) || this.#calls.size <= this.#running.size) return call;
    const capacity = this.capacity();
    const now = performance.now();
    for (const next of this.#calls.keys()) {
      if (this.#running.size >= capacity) break;
      if (this.#running.has(next)) continue;
      this.#running.set(next, now);
      onStarted(this.#calls.get(next)!);
    }
    return call;
  }

  /** The calls waiting inside the worker (sent, not started), oldest first. */
  *waiting(): IterableIterator<[number, OutgoingCall]> {
    if (this.#calls.size <= this.#running.size) return;
    for (const entry of this.#calls) if (!this.#running.has(entry[0])) yield entry;
  }

  /** Number of calls waiting inside the worker. */
  get waitingCount(): number {
    return this.#calls.size - this.#running.size;
  }

  /** How long the longest-running call has run, in ms (0 when none runs). */
  longestRunMs(now: number = performance.now()): number {
    let oldest = now;
    for (const startedAt of this.#running.values()) if (startedAt < oldest) oldest = startedAt;
    return now - oldest;
  }

  /** The calls in flight, oldest first. */
  entries(): IterableIterator<[number, OutgoingCall]> {
    return this.#calls.entries();
  }
}
