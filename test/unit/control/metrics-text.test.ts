// The control endpoint's /metrics: the snapshot's families, merged with telemetry.metrics() into one exposition.
import { describe, expect, it } from 'vitest';
import { exposition, metricsText } from '../../../src/control/metrics-text.js';
import { metrics } from '../../../src/telemetry/metrics.js';
import { fakeInstance } from '../../helpers/status-fixtures.js';

describe('metricsText', () => {
  it('exposes each family once with HELP/TYPE and one labelled series per pool', async () => {
    const text = await metricsText(fakeInstance({ requests: 7, queued: 2, errors: 1 }));
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

  it('leaves out percentiles of a pool that had no calls', async () => {
    expect(await metricsText(fakeInstance({ p50Ms: null }))).not.toMatch(/^snakepit_pool_latency_p50_ms\{/m);
  });
});

describe('exposition', () => {
  const families = (text: string) => text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);

  it('without telemetry.metrics() is the hand-written text alone', async () => {
    const snapshot = fakeInstance({ requests: 3 });
    expect(await exposition(snapshot, undefined)).toBe(await metricsText(snapshot));
  });

  it('with telemetry.metrics() adds its registry, each family exactly once', async () => {
    const text = await exposition(fakeInstance({ requests: 3, queued: 1 }), metrics());
    const names = families(text);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['snakepit_pool_requests_total', 'snakepit_pool_queue_depth', 'snakepit_call_duration_seconds', 'snakepit_pool_available_workers']));
    expect(text.endsWith('\n')).toBe(true);
  });
});
