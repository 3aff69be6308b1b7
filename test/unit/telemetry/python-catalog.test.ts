// Python's catalogue: names in any of their three spellings, the original's measurement allowlist renamed the
// catalogue's way (units converted), free-form events, and what drops an event.
import { describe, expect, it } from 'vitest';
import { pythonEventName, pythonMeasurements, PYTHON_MEASUREMENT_KEYS } from '../../../src/telemetry/python-catalog.js';

describe('pythonEventName', () => {
  it.each([
    ['gc.completed', 'snakepit.python.gc.completed'],
    ['python.gc.completed', 'snakepit.python.gc.completed'],
    ['snakepit.python.gc.completed', 'snakepit.python.gc.completed'],
    ['tool.result_size', 'snakepit.python.tool.result_size'],
    ['python.error.occurred', 'snakepit.python.error.occurred'],
    ['definitely.not.catalogued', undefined],
    ['snakepit.pool.status', undefined],
  ])('%s -> %s', (name, full) => expect(pythonEventName(name)).toBe(full));
});

describe('pythonMeasurements', () => {
  it("renames the allowlisted keys the catalogue's way and converts their units", () => {
    expect(pythonMeasurements('snakepit.python.tool.execution.stop', { duration: 2_500_000, count: 1 })).toEqual({ ok: true, measurements: { durationMs: 2.5, count: 1 } });
    expect(pythonMeasurements('snakepit.python.memory.sampled', { rss_bytes: 10, vms_bytes: 20 })).toEqual({ ok: true, measurements: { rssBytes: 10, vmsBytes: 20 } });
    expect(pythonMeasurements('snakepit.python.call.stop', { duration_ms: 4, latency_ms: 1 })).toEqual({ ok: true, measurements: { durationMs: 4, latencyMs: 1 } });
    expect(pythonMeasurements('snakepit.python.call.start', { count: true })).toEqual({ ok: true, measurements: { count: 1 } });
  });

  it.each([
    ['seconds', 1_700_000_000.5],
    ['milliseconds', 1_700_000_000_500],
    ['microseconds', 1_700_000_000_500_000],
    ['nanoseconds', 1_700_000_000_500_000_000],
  ])('system_time in %s becomes epoch milliseconds', (_unit, value) => {
    const r = pythonMeasurements('snakepit.python.call.start', { system_time: value });
    expect(r.ok && r.measurements.systemTime).toBeCloseTo(1_700_000_000_500, -1);
  });

  it('drops an event of the catalogue with a key outside the allowlist or a value that is not a number', () => {
    expect(pythonMeasurements('snakepit.python.gc.completed', { count: 1, made_up: 2 })).toEqual({ ok: false, reason: 'unknown_measurement_key', key: 'made_up' });
    expect(pythonMeasurements('snakepit.python.gc.completed', { count: 'one' })).toEqual({ ok: false, reason: 'invalid_measurement', key: 'count' });
    expect(pythonMeasurements('snakepit.python.gc.completed', { count: Number.NaN })).toEqual({ ok: false, reason: 'invalid_measurement', key: 'count' });
  });

  it('custom and span events take keys of their own (numbers kept, camelCased; others left out)', () => {
    expect(pythonMeasurements('snakepit.python.custom', { items_done: 3, label: 'x', duration_ms: 2 })).toEqual({ ok: true, measurements: { itemsDone: 3, durationMs: 2 } });
    expect(pythonMeasurements('snakepit.python.span.stop', null)).toEqual({ ok: true, measurements: {} });
  });

  it("lists the original's 34 allowlisted keys", () => {
    expect(PYTHON_MEASUREMENT_KEYS).toHaveLength(34);
    expect(PYTHON_MEASUREMENT_KEYS).toEqual(expect.arrayContaining(['duration', 'duration_ms', 'rss_bytes', 'cpu_percent', 'generation', 'message_size', 'python_pid']));
  });
});
