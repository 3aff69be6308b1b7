/**
 * A pool's recent calls, for `snakepit status` (calls/s and latency percentiles): per-second
 * counters over the window (exact counts at any rate) and a small ring of the last `capacity`
 * durations (a sample of the latest calls for the percentiles), so its cost is fixed however busy
 * the pool is.
 */

/** Calls kept per pool. @default 1024 */
export const DEFAULT_CALL_RING_SIZE = 1_024;
/** The window calls/s and latency are computed over, in ms. @default 10000 */
export const DEFAULT_CALL_WINDOW_MS = 10_000;

/** What one pool's recent calls look like. */
export interface CallRates {
  /** Calls that ended in the window, per second. */
  callsPerSec: number;
  /** Median duration of the window's calls (of the last `capacity` of them), in ms; null when there were none. */
  p50Ms: number | null;
  /** 99th percentile duration, in ms; null when there were none. */
  p99Ms: number | null;
  /** Calls in the window that failed. */
  errors: number;
  /** The window, in ms. */
  windowMs: number;
}

/** A fixed ring of (end time, duration, ok) for one pool, plus calls and errors per second. */
export class CallWindow {
  readonly #ends: Float64Array;
  readonly #durations: Float64Array;
  readonly #ok: Uint8Array;
  /** Per-second buckets: the second (ms since the epoch / 1000) each counts, its calls and errors. */
  readonly #seconds: Float64Array;
  readonly #calls: Uint32Array;
  readonly #errors: Uint32Array;
  #next = 0;
  #count = 0;
  #firstAt = Infinity;

  /**
   * @param capacity calls kept for the percentiles @default DEFAULT_CALL_RING_SIZE
   * @param windowMs window of `rates` @default DEFAULT_CALL_WINDOW_MS
   */
  constructor(
    capacity = DEFAULT_CALL_RING_SIZE,
    readonly windowMs = DEFAULT_CALL_WINDOW_MS,
  ) {
    this.#ends = new Float64Array(capacity);
    this.#durations = new Float64Array(capacity);
    this.#ok = new Uint8Array(capacity);
    const buckets = Math.ceil(windowMs / 1_000) + 1;
    this.#seconds = new Float64Array(buckets).fill(-1);
    this.#calls = new Uint32Array(buckets);
    this.#errors = new Uint32Array(buckets);
  }

  /** Records one finished call. */
  record(durationMs: number, ok: boolean, endedAt: number = Date.now()): void {
    this.#firstAt = Math.min(this.#firstAt, endedAt);
    const second = Math.floor(endedAt / 1_000);
    const b = second % this.#seconds.length;
    if (this.#seconds[b] !== second) {
      this.#seconds[b] = second;
      this.#calls[b] = 0;
      this.#errors[b] = 0;
    }
    this.#calls[b]!++;
    if (!ok) this.#errors[b]!++;
    this.#ends[this.#next] = endedAt;
    this.#durations[this.#next] = durationMs;
    this.#ok[this.#next] = ok ? 1 : 0;
    this.#next = (this.#next + 1) % this.#ends.length;
    this.#count = Math.min(this.#count + 1, this.#ends.length);
  }

  /** Rates over the window ending `now`. */
  rates(now: number = Date.now()): CallRates {
    const windowMs = this.windowMs;
    const durations: number[] = [];
    for (let i = 0; i < this.#count; i++) if (now - this.#ends[i]! <= windowMs) durations.push(this.#durations[i]!);
    durations.sort((a, b) => a - b);
    // Counts: the current (partial) second and the whole seconds before it, divided by the time
    // they span, so a call shows at once and a full window reads exactly. A pool whose first call
    // is younger than the window divides by its age instead (at least 1 s), not the whole window.
    const current = Math.floor(now / 1_000);
    const seconds = Math.max(1, Math.floor(windowMs / 1_000));
    const spanSec = Math.min(seconds - 1 + (now % 1_000) / 1_000, Math.max(1, (now - this.#firstAt) / 1_000));
    let calls = 0;
    let errors = 0;
    for (let b = 0; b < this.#seconds.length; b++) {
      const age = current - this.#seconds[b]!;
      if (age < 0 || age >= seconds) continue;
      calls += this.#calls[b]!;
      errors += this.#errors[b]!;
    }
    return { callsPerSec: round2(calls / spanSec), p50Ms: round2(percentile(durations, 0.5)), p99Ms: round2(percentile(durations, 0.99)), errors, windowMs };
  }
}

function round2<T extends number | null>(value: T): T {
  return (value === null ? null : Math.round(value * 100) / 100) as T;
}

/** Nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
