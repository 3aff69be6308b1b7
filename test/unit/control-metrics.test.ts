// The control endpoint's pure parts: the call window (calls/s, percentiles), the Prometheus text, the sparkline.
import { describe, expect, it } from 'vitest';
import { CallWindows, percentile } from '../../src/control/call-window.js';
import { metricsText } from '../../src/control/metrics-text.js';
import { sparkline } from '../../src/ui/sparkline.js';
import { fakeInstance } from '../helpers/status-fixtures.js';

describe('CallWindows', () => {
  it('given calls in and out of the window, counts only recent ones', () => {
    const w = new CallWindows(100, 10_000);
    const now = 1_000_000;
    w.record('a', 5, true, now - 20_000);
    for (let i = 1; i <= 10; i++) w.record('a', i, i !== 10, now - 1_000);
    expect(w.rates('a', now)).toEqual({ callsPerSec: 1, p50Ms: 5, p99Ms: 10, errors: 1, windowMs: 10_000 });
  });

  it('keeps only the last `capacity` calls', () => {
    const w = new CallWindows(4, 10_000);
    for (let i = 0; i < 10; i++) w.record('a', i, true, 500);
    expect(w.rates('a', 1_000).callsPerSec).toBe(0.4);
    expect(w.rates('a', 1_000).p50Ms).toBe(7);
  });

  it('reports no latency for a pool without calls', () => {
    expect(new CallWindows().rates('none')).toMatchObject({ callsPerSec: 0, p50Ms: null, p99Ms: null });
  });

  it('track passes results and errors through and records both', async () => {
    const w = new CallWindows();
    await expect(w.track('a', async () => 42)).resolves.toBe(42);
    await expect(w.track('a', async () => Promise.reject(new Error('x')))).rejects.toThrow();
    expect(w.rates('a')).toMatchObject({ errors: 1, callsPerSec: 0.2 });
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

describe('metricsText', () => {
  it('exposes each family once with HELP/TYPE and one labelled series per pool', () => {
    const text = metricsText(fakeInstance({ requests: 7, queued: 2, errors: 1 }));
    const series = Object.fromEntries(
      text
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]),
    );
    expect(series['snakepit_pool_requests_total{run_id="abcdefg",pool="default"}']).toBe(7);
    expect(series['snakepit_pool_queue_depth{run_id="abcdefg",pool="default"}']).toBe(2);
    expect(series['snakepit_pool_errors_total{run_id="abcdefg",pool="default"}']).toBe(1);
    expect(text).toContain('# TYPE snakepit_pool_requests_total counter');
    expect(text).toContain('# TYPE snakepit_pool_workers_busy gauge');
  });

  it('leaves out percentiles of a pool that had no calls', () => {
    expect(metricsText(fakeInstance({ p50Ms: null }))).not.toMatch(/^snakepit_pool_latency_p50_ms\{/m);
  });
});

describe('sparkline', () => {
  it.each([
    [[0, 0, 0], 3, '▁▁▁'],
    [[0, 4, 8], 3, '▁▅█'],
    [[8], 3, '  █'],
    [[1, 2, 3, 4, 8], 2, '▅█'],
  ])('sparkline(%j, %d)', (values, width, expected) => {
    expect(sparkline(values, width)).toBe(expected);
  });
});
