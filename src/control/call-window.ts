/**
 * A small ring of recent call durations per pool, for the control endpoint's calls/s and latency
 * percentiles. It only keeps the last `capacity` calls and reads them over a time window, so its
 * cost is fixed however busy the pool is.
 */

/** Calls kept per pool. @default 1024 */
export const DEFAULT_CALL_RING_SIZE = 1_024;
/** The window calls/s and latency are computed over, in ms. @default 10000 */
export const DEFAULT_CALL_WINDOW_MS = 10_000;

/** What one pool's recent calls look like. */
export interface CallRates {
  /** Calls that ended in the window, per second. */
  callsPerSec: number;
  /** Median duration of those calls, in ms; null when there were none. */
  p50Ms: number | null;
  /** 99th percentile duration, in ms; null when there were none. */
  p99Ms: number | null;
  /** Calls in the window that failed. */
  errors: number;
  /** The window, in ms. */
  windowMs: number;
}

/** A fixed ring of (end time, duration, ok) for one pool. */
class CallRing {
  readonly #ends: Float64Array;
  readonly #durations: Float64Array;
  readonly #ok: Uint8Array;
  #next = 0;
  #count = 0;

  constructor(capacity: number) {
    this.#ends = new Float64Array(capacity);
    this.#durations = new Float64Array(capacity);
    this.#ok = new Uint8Array(capacity);
  }

  push(endedAt: number, durationMs: number, ok: boolean): void {
    this.#ends[this.#next] = endedAt;
    this.#durations[this.#next] = durationMs;
    this.#ok[this.#next] = ok ? 1 : 0;
    this.#next = (this.#next + 1) % this.#ends.length;
    this.#count = Math.min(this.#count + 1, this.#ends.length);
  }

  rates(now: number, windowMs: number): CallRates {
    const durations: number[] = [];
    let errors = 0;
    for (let i = 0; i < this.#count; i++) {
      if (now - this.#ends[i]! > windowMs) continue;
      durations.push(this.#durations[i]!);
      if (this.#ok[i] === 0) errors++;
    }
    durations.sort((a, b) => a - b);
    // A young instance has not been up for the whole window yet: the rate is still per window,
    // which under-reports for the first seconds rather than jumping.
    return { callsPerSec: durations.length / (windowMs / 1_000), p50Ms: percentile(durations, 0.5), p99Ms: percentile(durations, 0.99), errors, windowMs };
  }
}

/** Nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Call durations of several pools, by pool name. */
export class CallWindows {
  readonly #rings = new Map<string, CallRing>();

  /**
   * @param capacity calls kept per pool @default DEFAULT_CALL_RING_SIZE
   * @param windowMs window of `rates` @default DEFAULT_CALL_WINDOW_MS
   */
  constructor(
    readonly capacity = DEFAULT_CALL_RING_SIZE,
    readonly windowMs = DEFAULT_CALL_WINDOW_MS,
  ) {}

  /** Records one finished call. */
  record(pool: string, durationMs: number, ok: boolean, endedAt: number = Date.now()): void {
    let ring = this.#rings.get(pool);
    if (!ring) this.#rings.set(pool, (ring = new CallRing(this.capacity)));
    ring.push(endedAt, durationMs, ok);
  }

  /** Times `call` into `pool`'s ring, passing its result or error through. */
  track<T>(pool: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const done = (ok: boolean): void => this.record(pool, performance.now() - started, ok);
    return call().then(
      (value) => (done(true), value),
      (error: unknown) => {
        done(false);
        throw error;
      },
    );
  }

  /** Rates of `pool` over the window ending `now`. */
  rates(pool: string, now: number = Date.now()): CallRates {
    return this.#rings.get(pool)?.rates(now, this.windowMs) ?? { callsPerSec: 0, p50Ms: null, p99Ms: null, errors: 0, windowMs: this.windowMs };
  }
}
