/**
 * A worker's calls in flight, in send order, and which of them run: Python starts calls in the
 * order they arrive, `capacity` at a time, so the first `capacity` calls in flight run and the
 * others wait inside the worker (pipelined) until one ahead of them ends or leaves.
 *
 * Kept in three parallel arrays, not Maps: a pipelined worker's table fills and empties with
 * every burst of calls, and a Map rehashes as it grows and again as it shrinks (measured: about
 * 250 B allocated per call). A worker holds a few calls (capacity + pipeline depth), so finding
 * one by id is a short scan, usually of the first entry (the oldest call ends first).
 */
import { clockMs } from '../clock.js';
import type { OutgoingCall } from '../transport/types.js';

/** `startedAt` of a call that waits (not started). */
const WAITING = -1;

export class WorkerCalls {
  /** Wire ids of the calls in flight, in send order. */
  readonly #ids: number[] = [];
  /** The calls, parallel to `#ids`. */
  readonly #calls: OutgoingCall[] = [];
  /** When each started (`clockMs()`), or WAITING; parallel to `#ids`. */
  readonly #startedAt: number[] = [];
  #running = 0;

  /** @param capacity calls the worker runs at once (read each time: a remote worker reports its own). */
  constructor(private readonly capacity: () => number) {}

  get size(): number {
    return this.#ids.length;
  }

  get(id: number): OutgoingCall | undefined {
    const i = this.#ids.indexOf(id);
    return i < 0 ? undefined : this.#calls[i];
  }

  has(id: number): boolean {
    return this.#ids.includes(id);
  }

  /** True while call `id` runs (not waiting behind others). */
  isRunning(id: number): boolean {
    const i = this.#ids.indexOf(id);
    return i >= 0 && this.#startedAt[i] !== WAITING;
  }

  /** A call was sent at `nowMs` (`clockMs()`); true when it starts at once (a free slot), false when it waits in the worker. */
  add(id: number, call: OutgoingCall, nowMs: number): boolean {
    const starts = this.#running < this.capacity();
    this.#ids.push(id);
    this.#calls.push(call);
    this.#startedAt.push(starts ? nowMs : WAITING);
    if (starts) this.#running++;
    return starts;
  }

  /**
   * Call `id` left the worker (it ended, or was taken back before it started). A running one frees
   * its slot: the next waiting calls start, each told to `onStarted`; `nowMs`: a `clockMs()` reading
   * the caller has (when they start), else one is taken if any starts.
   */
  remove(id: number, onStarted: (call: OutgoingCall) => void, nowMs?: number): OutgoingCall | undefined {
    const ids = this.#ids;
    const i = ids.indexOf(id);
    if (i < 0) return undefined;
    const call = this.#calls[i]!;
    const wasRunning = this.#startedAt[i] !== WAITING;
    if (i === 0) {
      ids.shift();
      this.#calls.shift();
      this.#startedAt.shift();
    } else {
      ids.splice(i, 1);
      this.#calls.splice(i, 1);
      this.#startedAt.splice(i, 1);
    }
    if (!wasRunning) return call;
    this.#running--;
    if (ids.length <= this.#running) return call;
    const capacity = this.capacity();
    const startedAt = this.#startedAt;
    let now = nowMs;
    for (let j = 0; j < ids.length && this.#running < capacity; j++) {
      if (startedAt[j] !== WAITING) continue;
      startedAt[j] = now ??= clockMs();
      this.#running++;
      onStarted(this.#calls[j]!);
    }
    return call;
  }

  /** The calls waiting inside the worker (sent, not started), oldest first. */
  *waiting(): IterableIterator<[number, OutgoingCall]> {
    if (this.#ids.length <= this.#running) return;
    for (let j = 0; j < this.#ids.length; j++) if (this.#startedAt[j] === WAITING) yield [this.#ids[j]!, this.#calls[j]!];
  }

  /** Number of calls waiting inside the worker. */
  get waitingCount(): number {
    return this.#ids.length - this.#running;
  }

  /** How long the longest-running call has run, in ms (0 when none runs). */
  longestRunMs(now: number = clockMs()): number {
    let oldest = now;
    for (const startedAt of this.#startedAt) if (startedAt !== WAITING && startedAt < oldest) oldest = startedAt;
    return now - oldest;
  }
}
