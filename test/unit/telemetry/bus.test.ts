// The telemetry bus: attach/detach by id, a throwing handler is detached, a closed catalogue for snakepit.*, application names, resilience forwarding.
import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { emitResilienceEvent } from '../../../src/resilience/events.js';
import { attach, attachMany, detach, emit, enabled, events, handlers, setTelemetryLogger } from '../../../src/telemetry/bus.js';
import { Logger, type LogRecord } from '../../../src/logger.js';

describe('telemetry bus', () => {
  afterEach(() => {
    for (const { id } of handlers()) detach(id);
  });

  it('delivers an event to each attached handler with name, measurements and metadata', () => {
    const got: unknown[] = [];
    attach('a', ['snakepit.call.stop'], (event, m, md) => got.push([event, m, md]));
    emit('snakepit.call.stop', { durationMs: 5 }, { pool: 'p', tool: 't', correlationId: 'c', stream: false, workerId: 'w' });
    expect(got).toEqual([['snakepit.call.stop', { durationMs: 5 }, { pool: 'p', tool: 't', correlationId: 'c', stream: false, workerId: 'w' }]]);
  });

  it('is disabled without subscribers and enabled with one (also a raw diagnostics_channel subscriber)', () => {
    expect(enabled('snakepit.call.start')).toBe(false);
    const raw = () => {};
    diagnosticsChannel.subscribe('snakepit.call.start', raw);
    expect(enabled('snakepit.call.start')).toBe(true);
    diagnosticsChannel.unsubscribe('snakepit.call.start', raw);
    expect(enabled('snakepit.call.start')).toBe(false);
  });

  it('detaches a handler that throws, logs it, and keeps delivering to the others', () => {
    const logs: LogRecord[] = [];
    setTelemetryLogger(new Logger('debug', (r) => logs.push(r)));
    let calls = 0;
    attach('bad', ['snakepit.pool.saturated'], () => {
      throw new Error('handler bug');
    });
    attachMany('good', ['snakepit.pool.saturated', 'snakepit.call.start'], () => calls++);
    const md = { pool: 'p', tool: 't', correlationId: 'c', stream: false };
    expect(() => emit('snakepit.pool.saturated', { queueDepth: 1, maxQueueSize: 1 }, md)).not.toThrow();
    emit('snakepit.pool.saturated', { queueDepth: 1, maxQueueSize: 1 }, md);
    expect(calls).toBe(2);
    expect(handlers().map((h) => h.id)).toEqual(['good']);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: 'error', context: { handlerId: 'bad', category: 'telemetry' } });
  });

  it('refuses an uncatalogued name and a duplicate id with typed errors', () => {
    expect(() => attach('x', ['snakepit.nope' as never], () => {})).toThrow(expect.objectContaining({ code: 'unknown_event' }));
    attach('y', ['snakepit.call.start'], () => {});
    expect(() => attach('y', ['snakepit.call.stop'], () => {})).toThrow(expect.objectContaining({ code: 'duplicate_handler' }));
    expect(detach('y')).toBe(true);
    expect(detach('y')).toBe(false);
  });

  it('lists the catalog, Python events included', () => {
    expect(events()).toContain('snakepit.pool.queue.enqueued');
    expect(events()).toContain('snakepit.python.call.stop');
    expect(events()).toContain('snakepit.circuit_breaker.opened');
    expect(new Set(events()).size).toBe(events().length);
  });

  it("forwards the resilience toolkit's events under snakepit.*", () => {
    const got: unknown[] = [];
    attach('cb', ['snakepit.circuit_breaker.opened'], (_e, m, md) => got.push([m, md]));
    emitResilienceEvent('circuit_breaker.opened', { failureCount: 3 }, { pool: 'p', reason: 'failure_threshold' });
    expect(got).toEqual([[{ failureCount: 3 }, { pool: 'p', reason: 'failure_threshold' }]]);
  });

  it("attaches to and emits an application's own names; snakepit.* stays closed and malformed names are refused", () => {
    const got: unknown[] = [];
    attach('app', ['myapp.operation.stop', 'myapp.cache-miss'], (event, m, md) => got.push([event, m, md]));
    expect(enabled('myapp.operation.stop')).toBe(true);
    expect(enabled('myapp.operation.start')).toBe(false);
    emit('myapp.operation.stop', { durationMs: 3 }, { user: 42 });
    emit('myapp.cache-miss', {}, {});
    emit('myapp.operation.start', { systemTime: 1 }, {}); // nobody listens: a no-op
    expect(got).toEqual([
      ['myapp.operation.stop', { durationMs: 3 }, { user: 42 }],
      ['myapp.cache-miss', {}, {}],
    ]);
    // The same channel a raw diagnostics_channel subscriber sees.
    const raw: unknown[] = [];
    const onRaw = (message: unknown) => raw.push(message);
    diagnosticsChannel.subscribe('myapp.operation.stop', onRaw);
    emit('myapp.operation.stop', { durationMs: 1 }, {});
    diagnosticsChannel.unsubscribe('myapp.operation.stop', onRaw);
    expect(raw).toEqual([{ event: 'myapp.operation.stop', measurements: { durationMs: 1 }, metadata: {} }]);
    expect(detach('app')).toBe(true);
    expect(enabled('myapp.operation.stop')).toBe(false);
    expect(events()).not.toContain('myapp.operation.stop');

    expect(() => emit('snakepit.not.catalogued' as string, {}, {})).toThrow(expect.objectContaining({ code: 'unknown_event' }));
    for (const bad of ['', 'my app.stop', 'myapp..stop', '.myapp', 'myapp.stop.']) {
      expect(() => attach('bad', [bad], () => {}), bad).toThrow(expect.objectContaining({ code: 'invalid_argument', details: expect.objectContaining({ field: 'name' }) }));
      expect(() => emit(bad, {}, {}), bad).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    }
    expect(handlers()).toEqual([]);
  });
});
