/** FIFO of waiting calls with O(1) removal (abort, timeout) — a Set keeps insertion order. */

export interface TaskQueue<T> {
  readonly size: number;
  push(task: T): void;
  /** Puts back a task that left the queue: before the first queued task that `isYounger` says arrived after it. */
  putBack(task: T, isYounger: (queued: T) => boolean): void;
  /** Removes a task wherever it is; false if it was not queued. */
  remove(task: T): boolean;
  /** The first task (in arrival order) that `accept` takes, removed from the queue. */
  takeFirst(accept: (task: T) => boolean): T | undefined;
  /** Empties the queue, returning what was in it in order. */
  drain(): T[];
  /** The queued tasks in order, left in place. */
  values(): IterableIterator<T>;
  /** True when a queued task passes `test`. */
  some(test: (task: T) => boolean): boolean;
}

/** The default FIFO queue. */
export class FifoTaskQueue<T> implements TaskQueue<T> {
  readonly #items = new Set<T>();

  get size(): number {
    return this.#items.size;
  }

  push(task: T): void {
    this.#items.add(task);
  }

  putBack(task: T, isYounger: (queued: T) => boolean): void {
    // Rebuilt: a Set keeps insertion order only. Rare (a call back from a worker), and the queue
    // is usually short when it happens.
    const all = [...this.#items];
    const at = all.findIndex(isYounger);
    all.splice(at === -1 ? all.length : at, 0, task);
    this.#items.clear();
    for (const t of all) this.#items.add(t);
  }

  remove(task: T): boolean {
    return this.#items.delete(task);
  }

  takeFirst(accept: (task: T) => boolean): T | undefined {
    for (const task of this.#items) {
      if (accept(task)) {
        this.#items.delete(task);
        return task;
      }
    }
    return undefined;
  }

  values(): IterableIterator<T> {
    return this.#items.values();
  }

  some(test: (task: T) => boolean): boolean {
    for (const task of this.#items) if (test(task)) return true;
    return false;
  }

  drain(): T[] {
    const all = [...this.#items];
    this.#items.clear();
    return all;
  }
}
