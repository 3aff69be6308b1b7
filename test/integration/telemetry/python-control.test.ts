// (Not listening to python.call.*: a handler there turns the bridge's own per-call events on.)
// Python's catalogue events folded in with the allowlisted measurement keys renamed the catalogue's way (a key
// outside it drops the event), and the runtime control of real workers: glob filters, pattern sampling, one
// worker's telemetry off while its pool's other worker goes on, and the listing of the worker streams.
import { afterEach, describe, expect, it } from 'vitest';
import { telemetry, type Snakepit, type TelemetryEventName } from '../../../src/index.js';
import { startPool } from '../../helpers/pool.js';
import { recordTelemetry, type TelemetryRecorder } from '../../helpers/telemetry.js';

const PY: TelemetryEventName[] = [
  'snakepit.python.gc.completed',
  'snakepit.python.error.occurred',
  'snakepit.python.tool.result_size',
  'snakepit.python.tool.execution.start',
  'snakepit.python.tool.execution.stop',
  'snakepit.python.span.start',
  'snakepit.python.span.stop',
  'snakepit.python.custom',
  'snakepit.telemetry.dropped',
];

describe('Python catalogue events and per-worker control', () => {
  let sp: Snakepit | undefined;
  let rec: TelemetryRecorder | undefined;
  afterEach(async () => {
    rec?.stop();
    rec = undefined;
    telemetry.control.reset();
    await sp?.stop();
    sp = undefined;
  });

  it('folds gc.completed, error.occurred and tool.result_size in with their measurements named as the catalogue says', async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' }));
    rec = recordTelemetry(PY);
    await sp.execute('catalogue_events', {}, { correlationId: 'cat-1' });
    await rec.untilEvent('snakepit.python.tool.execution.stop');
    const by = (name: TelemetryEventName) => rec!.seen.find((e) => e.event === name)!;
    expect(by('snakepit.python.gc.completed').measurements).toEqual({ count: 1, generation: 2, collected: 17 });
    expect(by('snakepit.python.error.occurred')).toMatchObject({ measurements: { count: 1 }, metadata: { error_type: 'ValueError', correlationId: 'cat-1' } });
    expect(by('snakepit.python.tool.result_size').measurements).toEqual({ messageSize: 2048, bytes: 2048 });
    // The original's Python times spans with time_ns: `duration` arrives as durationMs.
    expect(by('snakepit.python.tool.execution.stop').measurements).toEqual({ durationMs: 5, count: 1 });
  });

  it('drops an event whose measurement key is outside the allowlist, saying which key', async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' }));
    rec = recordTelemetry(PY);
    const before = telemetry.control.dropped();
    await sp.execute('bad_measurement');
    await rec.untilEvent('snakepit.python.custom');
    expect(rec.names()).toEqual(['snakepit.telemetry.dropped', 'snakepit.python.custom']);
    expect(rec.seen[0]!.metadata).toMatchObject({ name: 'snakepit.python.tool.execution.stop', reason: 'unknown_measurement_key', key: 'made_up_key' });
    expect(telemetry.control.dropped()).toBe(before + 1);
    expect(telemetry.control.streams()[0]).toMatchObject({ dropped: 1, received: 1 });
  });

  it('a glob filter lets through only the events it matches', async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' }));
    rec = recordTelemetry(PY);
    expect(telemetry.control.setFilter({ allow: ['tool.execution.*'] })).toBe(1);
    await telemetry.control.settled();
    await sp.execute('traced');
    await rec.untilEvent('snakepit.python.tool.execution.stop');
    expect(rec.names()).toEqual(['snakepit.python.tool.execution.start', 'snakepit.python.tool.execution.stop']);
  });

  it('a sampling rate for event patterns drops only the events they match', async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' }));
    rec = recordTelemetry(PY);
    telemetry.control.setSampling(0, { patterns: ['python.span.*'], pool: 'default' });
    await sp.execute('traced');
    await rec.untilEvent('snakepit.python.tool.execution.stop');
    expect(rec.names()).toEqual(['snakepit.python.tool.execution.start', 'snakepit.python.tool.execution.stop']);
    expect(telemetry.control.streams()[0]!.settings.samplingPatterns).toEqual([{ patterns: ['python.span.*'], rate: 0 }]);
  });

  it("turns one worker's telemetry off while the other worker of its pool goes on; the streams say so", async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter', poolSize: 2 }));
    const [quiet, loud] = sp.listWorkers();
    rec = recordTelemetry(PY);
    expect(telemetry.control.toggle(false, { workerId: quiet!.id })).toBe(1);
    await telemetry.control.settled();
    // Two calls at once: each idle worker takes one.
    const pids = await Promise.all([sp.execute('pid'), sp.execute('pid')]);
    expect(new Set(pids).size).toBe(2);
    await Promise.all([sp.execute('traced', { label: 'a' }, { correlationId: 'on-a' }), sp.execute('traced', { label: 'b' }, { correlationId: 'on-b' })]);
    await rec.untilEvent('snakepit.python.tool.execution.stop');
    // One call ran on each worker: only the loud one's events arrived.
    expect(new Set(rec.seen.map((e) => e.metadata.correlationId)).size).toBe(1);
    const streams = telemetry.control.streams().filter((s) => s.pool === 'default');
    const quietStream = streams.find((s) => s.workerId === quiet!.id)!;
    const loudStream = streams.find((s) => s.workerId === loud!.id)!;
    expect(quietStream).toMatchObject({ pid: quiet!.pid, received: 0, lastEventAt: null, settings: { enabled: false } });
    expect(loudStream).toMatchObject({ pid: loud!.pid, settings: { enabled: true } });
    expect(loudStream.received).toBeGreaterThanOrEqual(4);
    expect(rec.seen.every((e) => e.metadata.workerId === loud!.id)).toBe(true);
  });

  it('refuses a sampling rate outside 0..1 and a pattern matching no catalogued event, changing nothing', async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' }));
    for (const rate of [2, -1, Number.NaN]) expect(() => telemetry.control.setSampling(rate)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => telemetry.control.setFilter({ deny: ['python.nope.*'] })).toThrow(expect.objectContaining({ code: 'unknown_event' }));
    expect(telemetry.control.streams()[0]!.settings).toMatchObject({ sampling: 1, deny: [] });
  });
});
