// Python's telemetry folded into the bus: spans with duration and the call's correlation id,
// catalog-only names, and sampling changed at runtime without restarting the worker. The bridge's own
// python.call.start / python.call.stop read the same on both transports and whether they came in a telemetry frame
// or, over the pipe, as times carried in the call's compact answer (docs/protocol.md "Compact frames").
import { afterEach, describe, expect, it } from 'vitest';
import { telemetry, type Snakepit, type TelemetryEventName } from '../../../src/index.js';
import { startPool } from '../../helpers/pool.js';
import { recordTelemetry, type SeenEvent, type TelemetryRecorder } from '../../helpers/telemetry.js';

const PY: TelemetryEventName[] = [
  'snakepit.python.tool.execution.start',
  'snakepit.python.tool.execution.stop',
  'snakepit.python.tool.execution.exception',
  'snakepit.python.span.start',
  'snakepit.python.span.stop',
  'snakepit.python.custom',
  'snakepit.telemetry.dropped',
];

const START = 'snakepit.python.call.start';
const STOP = 'snakepit.python.call.stop';

describe('Python telemetry', () => {
  let sp: Snakepit | undefined;
  let rec: TelemetryRecorder | undefined;
  afterEach(async () => {
    rec?.stop();
    rec = undefined;
    telemetry.control.configure({ sampling: 1, allow: null, deny: [], enabled: true, resourceIntervalMs: 0 });
    await sp?.stop();
    sp = undefined;
  });

  it("a span arrives with its duration and the call's correlation id, nested spans linked", async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' }));
    rec = recordTelemetry(PY);
    const seenInPython = await sp.execute('traced', { label: 'x' }, { correlationId: 'corr-py-1' });
    expect(seenInPython).toBe('corr-py-1');
    await rec.untilEvent('snakepit.python.tool.execution.stop');
    expect(rec.seen.map((e) => e.event)).toEqual([
      'snakepit.python.tool.execution.start',
      'snakepit.python.span.start',
      'snakepit.python.span.stop',
      'snakepit.python.tool.execution.stop',
    ]);
    const stop = rec.seen[3]!;
    expect(stop.measurements.durationMs).toBeGreaterThanOrEqual(0);
    expect(stop.metadata).toMatchObject({ correlationId: 'corr-py-1', label: 'x', pool: 'default' });
    expect(String(stop.metadata.workerId)).toMatch(/^default-/);
    expect(rec.seen[1]!.metadata.parent_span_id).toBe(rec.seen[0]!.metadata.span_id);
    expect(rec.seen.every((e) => e.metadata.correlationId === 'corr-py-1')).toBe(true);
  });

  it('a call without a correlation id gets one made by the host, the same in Python as in the host events', async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' }));
    rec = recordTelemetry(['snakepit.call.start', 'snakepit.python.tool.execution.stop']);
    const first = await sp.execute('traced', { label: 'a' });
    const second = await sp.execute('traced', { label: 'b' });
    await rec.untilEvent('snakepit.python.tool.execution.stop');
    // UUID-shaped, this process's prefix and a counter: two calls differ only in the last group.
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(second).not.toBe(first);
    expect(String(second).slice(0, 24)).toBe(String(first).slice(0, 24));
    const started = rec.seen.filter((e) => e.event === 'snakepit.call.start').map((e) => e.metadata.correlationId);
    expect(started).toEqual([first, second]);
  });

  it('a span around a raising block emits exception with the error type', async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' }));
    rec = recordTelemetry(PY);
    await expect(sp.execute('failing_span')).rejects.toMatchObject({ code: 'python_error' });
    await rec.untilEvent('snakepit.python.tool.execution.exception');
    expect(rec.seen.map((e) => e.event)).toEqual(['snakepit.python.tool.execution.start', 'snakepit.python.tool.execution.exception']);
    expect(rec.seen[1]!.metadata.kind).toBe('ValueError');
  });

  it('an unknown Python event name is counted and dropped, creating no channel', async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' }));
    rec = recordTelemetry(PY);
    const before = telemetry.control.dropped();
    const names = [...telemetry.events()];
    await sp.execute('emit_unknown');
    // The catalogued event is sent after the unknown one: once it is here, the unknown one was handled.
    await rec.untilEvent('snakepit.python.custom');
    expect(telemetry.control.dropped()).toBe(before + 1);
    expect(rec.seen.find((e) => e.event === 'snakepit.telemetry.dropped')?.metadata.name).toBe('snakepit.python.definitely.not.catalogued');
    expect(telemetry.events()).toEqual(names);
    expect(() => telemetry.attach('nope', ['snakepit.python.definitely.not.catalogued' as TelemetryEventName], () => {})).toThrow(
      expect.objectContaining({ code: 'unknown_event' }),
    );
  });

  it("a Python log line written during a call carries the call's correlation id", async () => {
    const started = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' });
    sp = started.sp;
    const logged = new Promise<void>((resolve) => {
      const timer = setInterval(() => started.logs.some((r) => r.message.includes('watch this')) && (clearInterval(timer), resolve()), 20);
    });
    await sp.execute('log_warning', { text: 'watch this' }, { correlationId: 'corr-log' });
    await logged;
    const record = started.logs.find((r) => r.message.includes('watch this'))!;
    expect(record).toMatchObject({ level: 'warn', context: { category: 'python', correlationId: 'corr-log', stream: 'stderr' } });
    expect(record.message).toBe('WARNING telemetry_adapter: watch this');
  });

  it('resource sampling reports each worker\'s memory and CPU, then stops', async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' }));
    rec = recordTelemetry(['snakepit.python.memory.sampled', 'snakepit.python.cpu.sampled']);
    telemetry.control.sampleResources(50, 'default');
    await rec.until((s) => s.some((e) => e.event === 'snakepit.python.memory.sampled') && s.some((e) => e.event === 'snakepit.python.cpu.sampled'));
    telemetry.control.sampleResources(0, 'default');
    const memory = rec.seen.find((e) => e.event === 'snakepit.python.memory.sampled')!;
    expect(memory.measurements.rssBytes).toBeGreaterThan(1_000_000);
    expect(memory.metadata).toMatchObject({ pool: 'default' });
    expect(rec.seen.find((e) => e.event === 'snakepit.python.cpu.sampled')!.measurements.cpuPercent).toBeGreaterThanOrEqual(0);
  });

  it("sampling 0 silences a worker's events without restarting it; 1 brings them back", async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' }));
    rec = recordTelemetry(['snakepit.python.custom']);
    const pid = await sp.execute('pid');
    expect(telemetry.control.setSampling(0, 'default')).toBe(1);
    // Applied once settled (gRPC workers answer ConfigureTelemetry; a pipe frame precedes the next call).
    await telemetry.control.settled();
    await sp.execute('emit_many', { n: 5 }, { correlationId: 'silenced-1' });
    await sp.execute('emit_many', { n: 5 }, { correlationId: 'silenced-2' });
    // Then back on: the events of the later calls arrive, none of the silenced ones.
    telemetry.control.setSampling(1, 'default');
    await telemetry.control.settled();
    await sp.execute('emit_many', { n: 2 }, { correlationId: 'after' });
    await sp.execute('emit_many', { n: 2 }, { correlationId: 'after' });
    await rec.until((s) => s.filter((e) => e.metadata.correlationId === 'after').length >= 4);
    expect(rec.seen.map((e) => e.metadata.correlationId)).toEqual(['after', 'after', 'after', 'after']);
    expect(await sp.execute('pid')).toBe(pid);
    expect(sp.health().restarts ?? 0).toBe(0);
  });

  const expectCallEvents = (events: SeenEvent[], tool: string, correlationId: string, workerId: string, before: number) => {
    const start = events.find((e) => e.event === START && e.metadata.correlationId === correlationId)!;
    const stop = events.find((e) => e.event === STOP && e.metadata.correlationId === correlationId)!;
    expect(Object.keys(start.measurements).sort()).toEqual(['count', 'systemTime']);
    expect(start.measurements.count).toBe(1);
    expect(start.measurements.systemTime).toBeGreaterThanOrEqual(before - 1); // epoch ms; ns in Python
    expect(start.measurements.systemTime).toBeLessThanOrEqual(Date.now() + 1);
    expect(Object.keys(stop.measurements).sort()).toEqual(['count', 'durationMs']);
    expect(stop.measurements.durationMs).toBeGreaterThanOrEqual(0);
    for (const event of [start, stop]) {
      expect(Object.keys(event.metadata).sort()).toEqual(['command', 'correlationId', 'pool', 'pythonTime', 'tool', 'workerId']);
      expect(event.metadata).toMatchObject({ command: tool, tool, pool: 'default', workerId, correlationId });
      expect(event.metadata.pythonTime).toBeGreaterThanOrEqual(before / 1000 - 1); // epoch seconds
    }
    expect(stop.metadata.pythonTime as number).toBeGreaterThanOrEqual(start.metadata.pythonTime as number);
  };

  it("the bridge's python.call.start and stop read the same for a call that emits nothing and for one that emits its own events, in order", async () => {
    ({ sp } = await startPool({ adapter: 'telemetry_adapter.TelemetryAdapter' }));
    rec = recordTelemetry([START, STOP, 'snakepit.python.custom']);
    await telemetry.control.settled(); // the worker has the settings that turn its call events on
    const workerId = sp.listWorkers()[0]!.id;
    const before = Date.now();
    await sp.execute('pid', {}, { correlationId: 'quiet-1' });
    await sp.execute('emit_many', { n: 2 }, { correlationId: 'noisy-1' });
    await rec.until((seen) => seen.filter((e) => e.event === STOP).length === 2, 'two python.call.stop');
    expectCallEvents(rec.seen, 'pid', 'quiet-1', workerId, before);
    expectCallEvents(rec.seen, 'emit_many', 'noisy-1', workerId, before);
    const noisy = rec.seen.filter((e) => e.metadata.correlationId === 'noisy-1').map((e) => e.event);
    expect(noisy).toEqual([START, 'snakepit.python.custom', 'snakepit.python.custom', STOP]);
    // Per call, in order (over gRPC, events travel on their own stream: a call's stop may come after the next call's start).
    expect(rec.seen.filter((e) => e.metadata.correlationId === 'quiet-1').map((e) => e.event)).toEqual([START, STOP]);
  });
});
