// A pool's record of its calls: the recent window (calls/s, percentiles) and the durations by tool.
import { describe, expect, it } from 'vitest';
import { CallWindow, DurationsByTool, percentile } from '../../../src/pool/call-window.js';

describe('CallWindow', () => {
  it('given calls in and out of the window, counts only recent ones', () => {
    const w = new CallWindow(100, 10_000);
    // Half a second into a second: the window spans 9.5 s (this one and the 9 before it).
    const now = 1_000_500;
    w.record(5, true, now - 20_000);
    for (let i = 1; i <= 19; i++) w.record(i, i !== 19, now - 1_000);
    expect(w.rates(now)).toEqual({ callsPerSec: 2, p50Ms: 10, p99Ms: 19, errors: 1, windowMs: 10_000 });
  });

  it('counts every call but takes percentiles from the last `capacity` ones', () => {
    const w = new CallWindow(4, 10_000);
    // A first call just outside the window: the rate divides by the whole window (9.5 s here).
    w.record(0, true, 91_600);
    for (let i = 0; i < 19; i++) w.record(i, true, 100_500);
    expect(w.rates(101_500).callsPerSec).toBe(2);
    expect(w.rates(101_500).p50Ms).toBe(16);
  });

  it('divides by the age of the first call while it is younger than the window (at least 1 s)', () => {
    const w = new CallWindow(100, 10_000);
    for (let i = 0; i < 30; i++) w.record(1, true, 10_000);
    expect(w.rates(12_000).callsPerSec).toBe(15);
    expect(w.rates(10_200).callsPerSec).toBe(30);
  });

  it('reports no latency for a pool without calls', () => {
    expect(new CallWindow().rates()).toMatchObject({ callsPerSec: 0, p50Ms: null, p99Ms: null });
  });

  it('records successes and failures', () => {
    const w = new CallWindow();
    w.record(1, true);
    w.record(2, false);
    expect(w.rates()).toMatchObject({ errors: 1 });
    expect(w.rates().callsPerSec).toBeGreaterThan(0);
  });

  it.each([
    [[], 0.5, null],
    [[1], 0.99, 1],
    [[1, 2, 3, 4], 0.5, 2],
    [[1, 2, 3, 4], 0.99, 4],
  ])('percentile(%j, %d) = %j', (values, q, expected) => {
    expect(percentile(values, q)).toBe(expected);
  });
});

describe('DurationsByTool', () => {
  it('keeps count, sum and quantiles per tool and outcome', () => {
    const d = new DurationsByTool();
    for (const ms of [1, 2, 3, 4]) d.record('add', ms, true);
    d.record('add', 10, false);
    const [ok, failed] = [...d.entries()];
    expect(ok).toMatchObject({ tool: 'add', ok: true, count: 4 });
    expect(ok!.sumSeconds).toBeCloseTo(0.01, 4);
    expect(ok!.quantile(0.5)).toBeCloseTo(0.002, 4);
    expect(failed).toMatchObject({ tool: 'add', ok: false, count: 1 });
  });
});
