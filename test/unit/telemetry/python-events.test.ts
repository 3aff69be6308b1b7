// foldPythonEvents: what a Python event's metadata looks like once published on the bus.
import { afterEach, describe, expect, it } from 'vitest';
import { attach, detach } from '../../../src/telemetry/bus.js';
import { foldPythonEvents } from '../../../src/telemetry/python-events.js';

const seen: { event: string; measurements: Record<string, number>; metadata: Record<string, unknown> }[] = [];

function listen(): void {
  attach('unit-python-events', ['snakepit.python.custom', 'snakepit.python.call.stop'], (event, measurements, metadata) => {
    seen.push({ event, measurements: measurements as Record<string, number>, metadata: metadata as Record<string, unknown> });
  });
}

describe('foldPythonEvents', () => {
  afterEach(() => {
    detach('unit-python-events');
    seen.length = 0;
  });

  it("publishes Python's metadata fields, then pool, workerId, correlationId and pythonTime", () => {
    listen();
    const metadata = { command: 'echo', tool: 'echo' };
    foldPythonEvents('p', 'w1', [{ name: 'python.call.stop', measurements: { duration: 2_000_000, count: 1 }, metadata, correlation_id: 'c-1', ts: 12.5 }]);
    expect(seen).toHaveLength(1);
    const [{ event, measurements, metadata: published }] = seen as [(typeof seen)[number]];
    expect(event).toBe('snakepit.python.call.stop');
    expect(measurements).toEqual({ durationMs: 2, count: 1 });
    expect(Object.keys(published)).toEqual(['command', 'tool', 'pool', 'workerId', 'correlationId', 'pythonTime']);
    expect(published).toEqual({ command: 'echo', tool: 'echo', pool: 'p', workerId: 'w1', correlationId: 'c-1', pythonTime: 12.5 });
    expect(published).not.toBe(metadata); // a copy: the handler may keep or change it
    expect(metadata).toEqual({ command: 'echo', tool: 'echo' });
  });

  it("moves a correlation_id found in the metadata to correlationId (the event's own wins) and leaves pythonTime out without ts", () => {
    listen();
    foldPythonEvents('p', 'w1', [
      { name: 'custom', measurements: {}, metadata: { correlation_id: 'from-meta', k: 1 } },
      { name: 'custom', measurements: {}, metadata: { correlation_id: 'from-meta' }, correlation_id: 'own' },
      { name: 'custom', measurements: {}, metadata: null },
    ]);
    expect(seen.map((e) => e.metadata)).toEqual([
      { k: 1, pool: 'p', workerId: 'w1', correlationId: 'from-meta' },
      { pool: 'p', workerId: 'w1', correlationId: 'own' },
      { pool: 'p', workerId: 'w1', correlationId: undefined },
    ]);
    expect(seen.every((e) => !Object.hasOwn(e.metadata, 'correlation_id') && !Object.hasOwn(e.metadata, 'pythonTime'))).toBe(true);
  });

  it('keeps a __proto__ key as a plain field, not as the prototype', () => {
    listen();
    const metadata = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    foldPythonEvents('p', 'w1', [{ name: 'custom', measurements: {}, metadata }]);
    const published = seen[0]!.metadata;
    expect(Object.getPrototypeOf(published)).toBe(Object.prototype);
    expect(Object.hasOwn(published, '__proto__')).toBe(true);
    expect((published as { polluted?: boolean }).polluted).toBeUndefined();
    expect(published.a).toBe(1);
  });
});
