// telemetry.span / startSpan / endSpan: start, then stop with a duration or exception with the error, for sync and async work.
import { afterEach, describe, expect, it } from 'vitest';
import { attach, detach, handlers } from '../../../src/telemetry/bus.js';
import { endSpan, endSpanException, span, startSpan } from '../../../src/telemetry/span.js';
import { PoolError } from '../../../src/errors.js';

function record(prefix: string) {
  const seen: { event: string; measurements: Record<string, number>; metadata: Record<string, unknown> }[] = [];
  attach(`span-${prefix}`, [`${prefix}.start`, `${prefix}.stop`, `${prefix}.exception`], (event, measurements, metadata) => seen.push({ event, measurements, metadata }));
  return seen;
}

describe('telemetry spans', () => {
  afterEach(() => {
    for (const { id } of handlers()) detach(id);
  });

  it('wraps async work: start with systemTime, stop with durationMs, both with the metadata and one spanId', async () => {
    const seen = record('myapp.index');
    const value = await span('myapp.index', async () => 'built', { docs: 10 });
    expect(value).toBe('built');
    expect(seen.map((e) => e.event)).toEqual(['myapp.index.start', 'myapp.index.stop']);
    expect(seen[0]!.measurements.systemTime).toBeGreaterThan(1.6e12);
    expect(seen[1]!.measurements.durationMs).toBeGreaterThanOrEqual(0);
    expect(seen[0]!.metadata).toMatchObject({ docs: 10 });
    expect(seen[1]!.metadata).toMatchObject({ docs: 10, spanId: seen[0]!.metadata.spanId });
  });

  it('returns a sync result synchronously and ends the span before returning', () => {
    const seen = record('myapp.sync');
    expect(span('myapp.sync', () => 7)).toBe(7);
    expect(seen.map((e) => e.event)).toEqual(['myapp.sync.start', 'myapp.sync.stop']);
  });

  it('a rejection or throw emits exception with kind, reason and code, and is passed on unchanged', async () => {
    const seen = record('myapp.fail');
    const error = new PoolError('no room', 'pool_saturated');
    await expect(span('myapp.fail', () => Promise.reject(error))).rejects.toBe(error);
    const thrown = new TypeError('bad');
    expect(() =>
      span('myapp.fail', () => {
        throw thrown;
      }),
    ).toThrow(thrown);
    expect(seen.map((e) => e.event)).toEqual(['myapp.fail.start', 'myapp.fail.exception', 'myapp.fail.start', 'myapp.fail.exception']);
    expect(seen[1]!.metadata).toMatchObject({ kind: 'PoolError', reason: 'no room', code: 'pool_saturated' });
    expect(seen[3]!.metadata).toMatchObject({ kind: 'TypeError', reason: 'bad' });
    expect(seen[3]!.metadata).not.toHaveProperty('code');
    expect(seen[1]!.measurements.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('manual spans merge the end metadata into the start metadata', () => {
    const seen = record('myapp.load');
    const ok = startSpan('myapp.load', { file: 'a.csv' });
    endSpan(ok, { rows: 3 });
    const failed = startSpan('myapp.load', { file: 'b.csv' });
    endSpanException(failed, new Error('gone'), { attempt: 2 });
    expect(seen[1]!.metadata).toMatchObject({ file: 'a.csv', rows: 3, spanId: ok.spanId });
    expect(seen[3]!.metadata).toMatchObject({ file: 'b.csv', attempt: 2, kind: 'Error', reason: 'gone', spanId: failed.spanId });
    expect(failed.spanId).not.toBe(ok.spanId);
  });

  it('refuses a snakepit.* or malformed name before running the work', () => {
    let ran = false;
    const work = () => (ran = true);
    expect(() => span('snakepit.mine', work)).toThrow(expect.objectContaining({ code: 'unknown_event' }));
    expect(() => span('my app', work)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(ran).toBe(false);
  });

  it('runs the work when nobody listens', async () => {
    await expect(span('myapp.quiet', async () => 1)).resolves.toBe(1);
  });
});
