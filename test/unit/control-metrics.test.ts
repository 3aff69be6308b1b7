// The control endpoint's pure parts: the call window (calls/s, percentiles), the Prometheus text, the sparkline.
import { describe, expect, it } from 'vitest';
import { CallWindow, percentile } from '../../src/pool/call-window.js';
import { exposition, metricsText } from '../../src/control/metrics-text.js';
import { metrics } from '../../src/telemetry/metrics.js';
import { sparkline } from '../../src/ui/sparkline.js';
import { fakeInstance } from '../helpers/status-fixtures.js';

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

describe('exposition', () => {
  const families = (text: string) => text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);

  it('without telemetry.metrics() is the hand-written text alone', async () => {
    const snapshot = fakeInstance({ requests: 3 });
    expect(await exposition(snapshot, undefined)).toBe(metricsText(snapshot));
  });

  it('with telemetry.metrics() adds its registry, each family exactly once', async () => {
    const text = await exposition(fakeInstance({ requests: 3, queued: 1 }), metrics());
    const names = families(text);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['snakepit_pool_requests_total', 'snakepit_pool_queue_depth', 'snakepit_call_duration_seconds', 'snakepit_pool_available_workers']));
    expect(text.endsWith('\n')).toBe(true);
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
