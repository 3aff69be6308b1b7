/** FIFO of waiting calls with O(1) removal (abort, timeout) — a Set keeps insertion order. */

export interface TaskQueue<T> {
  readonly size: number;
  push(task: T): void;
  /** Puts a task first (it waited longer than every queued one). */
  unshift(task: T): void;
  /** Removes a task wherever it is; false if it was not queued. */
  remove(task: T): boolean;
  /** The first task (in arrival order) that `accept` takes, removed from the queue. */
  takeFirst(accept: (task: T) => boolean): T | undefined;
  /** Empties the queue, returning what was in it in order. */
  drain(): T[];
  /** The queued tasks in order, left in place. */
  values(): IterableIterator<T>;
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

  unshift(task: T): void {
    // Rebuilt: a Set keeps insertion order only. Rare (a call back from a worker), and the queue
    // is usually short when it happens.
    const rest = [...this.#items];
    this.#items.clear();
    this.#items.add(task);
    for (const t of rest) this.#items.add(t);
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

  drain(): T[] {
    const all = [...this.#items];
    this.#items.clear();
    return all;
  }
}
