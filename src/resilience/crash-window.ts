/**
 * Crash times per key in a rolling window: the one window behind the crash barrier (per worker
 * slot: too many and the slot is removed) and the health monitor (per worker: crash rate).
 */
export class CrashWindow<K> {
  readonly #times = new Map<K, number[]>();

  constructor(readonly windowMs: number) {}

  /** Records a crash of `key` at `now`; returns its crashes within the window, this one included. */
  record(key: K, now: number): number {
    const recent = (this.#times.get(key) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    this.#times.set(key, recent);
    return recent.length;
  }

  /** Crashes of `key` within the window ending at `now`. */
  count(key: K, now: number): number {
    return (this.#times.get(key) ?? []).filter((t) => now - t < this.windowMs).length;
  }

  /** Crashes of every key within the window ending at `now`. */
  total(now: number): number {
    let n = 0;
    for (const key of this.#times.keys()) n += this.count(key, now);
    return n;
  }

  /** The time of `key`'s latest crash still kept, if any. */
  last(key: K): number | undefined {
    return this.#times.get(key)?.at(-1);
  }

  /** Keys with crashes kept. */
  keys(): IterableIterator<K> {
    return this.#times.keys();
  }

  /** Drops crashes older than the window, and keys left with none. */
  prune(now: number): void {
    for (const [key, times] of this.#times) {
      const recent = times.filter((t) => now - t < this.windowMs);
      if (recent.length === 0) this.#times.delete(key);
      else this.#times.set(key, recent);
    }
  }
}
