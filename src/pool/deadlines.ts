/**
 * Calls' deadlines (a call's timeout, its queue timeout) on shared timers: one Node timer per
 * duration instead of one per call. Deadlines of one duration expire in the order they were set,
 * so each duration keeps a list in that order and one timer for its head; setting or clearing a
 * deadline is a few pointer writes. (Measured on the dev VM: a `setTimeout` + `clearTimeout` pair
 * costs ~0.6 µs and a Timeout object with its async-hooks state; a pipelined call needed two.)
 *
 * The timer a list arms runs in the async context of the call that armed it, so code run when a
 * deadline fires must not read the caller's AsyncLocalStorage (it gets the task as an argument).
 */

import { clockMs as now } from '../clock.js';

/** Empty lists kept for reuse while there are at most this many durations. */
const MAX_IDLE_LISTS = 32;

/** setTimeout's limit: a longer delay would be clamped to 1 ms. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** One pending deadline: `fire(a, b)` at `at` unless cleared first. */
export class Deadline<A = unknown, B = unknown> {
  prev: Deadline | undefined;
  next: Deadline | undefined;
  /** The list it waits in; undefined once it fired or was cleared. */
  list: DeadlineList | undefined;

  constructor(
    readonly at: number,
    readonly fire: (a: A, b: B) => void,
    readonly a: A,
    readonly b: B,
  ) {}
}

const lists = new Map<number, DeadlineList>();

class DeadlineList {
  head: Deadline | undefined;
  tail: Deadline | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly durationMs: number) {}

  add(deadline: Deadline): void {
    deadline.list = this;
    deadline.prev = this.tail;
    if (this.tail) this.tail.next = deadline;
    else this.head = deadline;
    this.tail = deadline;
    if (!this.#timer) this.#arm(this.durationMs);
  }

  remove(deadline: Deadline): void {
    const { prev, next } = deadline;
    if (prev) prev.next = next;
    else this.head = next;
    if (next) next.prev = prev;
    else this.tail = prev;
    deadline.prev = deadline.next = deadline.list = undefined;
    if (this.head) return;
    // Nothing left to wait for: the timer must not keep the process alive.
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    // Durations are few (config values) unless callers compute them: then empty lists go.
    if (lists.size > MAX_IDLE_LISTS) lists.delete(this.durationMs);
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(this.#expire, Math.min(delayMs, MAX_DELAY_MS));
  }

  /** Fires every deadline that is due, oldest first, then waits for the next one (the head cleared meanwhile: a wake-up for nothing, then the next). */
  readonly #expire = (): void => {
    this.#timer = undefined;
    const t = now();
    for (let head = this.head; head && head.at <= t; head = this.head) {
      this.remove(head);
      head.fire(head.a, head.b); // may set or clear other deadlines, this list's too
    }
    if (this.head && !this.#timer) this.#arm(Math.max(1, this.head.at - t));
  };
}

/**
 * Calls `fire(a, b)` `durationMs` (finite, >= 0) after `fromMs` unless `clearDeadline` comes first; `fire` gets its
 * arguments as with setTimeout (no closure per call). `fromMs`: a `clockMs()` reading the caller already has (a list
 * keeps its deadlines in the order they were set, so one from an older reading fires at most that much late). @default clockMs()
 */
export function setDeadline<A, B>(durationMs: number, fire: (a: A, b: B) => void, a: A, b: B, fromMs: number = now()): Deadline<A, B> {
  let list = lists.get(durationMs);
  if (!list) lists.set(durationMs, (list = new DeadlineList(durationMs)));
  const deadline = new Deadline(fromMs + durationMs, fire, a, b);
  list.add(deadline as unknown as Deadline);
  return deadline;
}

/** Clears a deadline (no effect once it fired or was cleared). */
export function clearDeadline<A, B>(deadline: Deadline<A, B> | undefined): void {
  const d = deadline as Deadline | undefined; // the list links deadlines of any argument types
  d?.list?.remove(d);
}
