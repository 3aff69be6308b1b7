/**
 * How long a pool's calls take, recorded once per call (the one source of call latency): the
 * recent window for `snakepit status` (calls/s and percentiles: per-second counters over the
 * window, exact at any rate, and a small ring of the last `capacity` durations for the
 * percentiles, so its cost is fixed however busy the pool is) and the durations by tool since
 * the start for `/metrics` (`snakepit_call_duration_seconds`).
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { clockMs } from '../clock.js';

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
  /** Per-second buckets: the second (`clockMs()` / 1000) each counts, its calls and errors. */
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

  /** Records one finished call; `endedAt`: a `clockMs()` reading (the caller's, so a call reads the clock once to end). */
  record(durationMs: number, ok: boolean, endedAt: number = clockMs()): void {
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

  /** Rates over the window ending `now` (`clockMs()`). */
  rates(now: number = clockMs()): CallRates {
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

/** One tool's calls with one outcome since the pool started, for `/metrics`. */
export interface ToolDurations {
  tool: string;
  ok: boolean;
  count: number;
  /** Sum of the durations, in seconds. */
  sumSeconds: number;
  /** The `q` quantile (0..1) of the durations, in seconds. */
  quantile(q: number): number;
}

/**
 * Every call's duration by tool and outcome, since the pool started: a native histogram each
 * (`perf_hooks`, microseconds), so recording costs one native call and quantiles stay exact to
 * three significant figures however many calls there were.
 */
export class DurationsByTool {
  readonly #tools = new Map<string, [RecordableHistogram | undefined, RecordableHistogram | undefined]>();

  record(tool: string, durationMs: number, ok: boolean): void {
    let pair = this.#tools.get(tool);
    if (!pair) this.#tools.set(tool, (pair = [undefined, undefined]));
    const slot = ok ? 0 : 1;
    const histogram = (pair[slot] ??= createHistogram({ lowest: 1, highest: 3_600_000_000, figures: 3 }));
    histogram.record(Math.min(3_600_000_000, Math.max(1, Math.round(durationMs * 1_000))));
  }

  /** Each tool and outcome seen. */
  *entries(): IterableIterator<ToolDurations> {
    for (const [tool, pair] of this.#tools) {
      for (const [slot, histogram] of pair.entries()) {
        if (!histogram) continue;
        yield {
          tool,
          ok: slot === 0,
          count: histogram.count,
          sumSeconds: (histogram.mean * histogram.count) / 1e6,
          quantile: (q) => histogram.percentile(q * 100) / 1e6,
        };
      }
    }
  }
}

/** A pool's record of its calls: the recent window and the durations by tool, both fed once per call. */
export class CallRecord {
  readonly recent = new CallWindow();
  readonly durations = new DurationsByTool();

  /** `endedAt`: the `clockMs()` reading the duration was taken from. */
  record(tool: string, durationMs: number, ok: boolean, endedAt: number): void {
    this.recent.record(durationMs, ok, endedAt);
    this.durations.record(tool, durationMs, ok);
  }
}
