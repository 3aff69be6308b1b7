// telemetry.control: settings reach running workers (and later ones) per pool or worker; settled() waits for their acks;
// values are validated, glob patterns expand to catalogued names, pattern rates and filters apply as events arrive.
import { afterEach, describe, expect, it } from 'vitest';
import { attach, detach } from '../../../src/telemetry/bus.js';
// Loaded for its side effect: it turns Python's own call events on and off as handlers come and go.
import '../../../src/telemetry/python-events.js';
import { admit, configure, registerWorker, reset, setSampling, settled, streamsInfo, type ControllableWorker, type TelemetryControl } from '../../../src/telemetry/python-control.js';

/** A worker whose acks the test releases by hand; `told` records what it was sent. */
function fakeWorker(id: string, pool: string, kind: 'acks' | 'refuses' | 'unreachable') {
  const told: TelemetryControl[] = [];
  const acks: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const worker: ControllableWorker = {
    id,
    pool,
    telemetryControl(control) {
      if (kind === 'unreachable') return undefined;
      told.push(control);
      return new Promise<void>((resolve, reject) => acks.push({ resolve, reject }));
    },
  };
  return { worker, told, acks };
}

describe('telemetry.control', () => {
  const unregister: (() => void)[] = [];
  afterEach(() => {
    unregister.splice(0).forEach((u) => u());
    reset();
  });

  it('tells the running workers of a pool, counts those it reached, and settles once they all acked', async () => {
    const a = fakeWorker('a', 'p', 'acks');
    const b = fakeWorker('b', 'p', 'refuses');
    const c = fakeWorker('c', 'p', 'unreachable');
    const other = fakeWorker('d', 'q', 'acks');
    for (const f of [a, b, c, other]) unregister.push(registerWorker(f.worker));
    expect(configure({ sampling: 0 }, 'p')).toBe(2);
    expect(a.told).toEqual([{ sampling: 0 }]);
    expect(other.told).toEqual([]);
    let done = false;
    const waiting = settled().then(() => (done = true));
    await Promise.resolve();
    a.acks[0]!.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false); // b has not answered yet
    b.acks[0]!.reject(new Error('worker gone')); // a refusal never fails settled()
    await waiting;
    expect(done).toBe(true);
  });

  it("turns Python's own call events on while a handler listens to one of them, off after the last detach", () => {
    configure({ sampling: 1 }); // so registering sends exactly one settings message first
    const w = fakeWorker('w', 'p', 'acks');
    unregister.push(registerWorker(w.worker));
    const told = () => w.told.slice(1); // after the settings it got when it registered
    attach('unit-other', ['snakepit.python.memory.sampled'], () => {});
    expect(told()).toEqual([]); // no call-event handler: nothing changes
    attach('unit-calls-1', ['snakepit.python.call.stop'], () => {});
    attach('unit-calls-2', ['snakepit.python.call.start', 'snakepit.python.call.exception'], () => {});
    expect(told()).toEqual([{ callEvents: true }]); // once, for the first
    detach('unit-calls-1');
    expect(told()).toHaveLength(1); // unit-calls-2 still listens
    detach('unit-calls-2');
    detach('unit-other');
    expect(told()).toEqual([{ callEvents: true }, { callEvents: false }]);
    const late = fakeWorker('late', 'p', 'acks');
    unregister.push(registerWorker(late.worker));
    expect(late.told).toEqual([expect.objectContaining({ callEvents: false })]); // later workers get the setting
  });

  it("gives a worker that starts later its pool's settings", () => {
    configure({ sampling: 0.5, deny: ['memory.sampled'] }, 'p');
    const late = fakeWorker('late', 'p', 'acks');
    unregister.push(registerWorker(late.worker));
    expect(late.told).toEqual([expect.objectContaining({ sampling: 0.5, deny: ['snakepit.python.memory.sampled'] })]);
    late.acks[0]!.resolve();
  });

  it.each([
    ['sampling 2', { sampling: 2 }, 'sampling'],
    ['sampling -1', { sampling: -1 }, 'sampling'],
    ['sampling NaN', { sampling: Number.NaN }, 'sampling'],
    ['sampling as text', { sampling: '0.5' }, 'sampling'],
    ['enabled as text', { enabled: 'yes' }, 'enabled'],
    ['a negative resource interval', { resourceIntervalMs: -1 }, 'resourceIntervalMs'],
    ['a fractional resource interval', { resourceIntervalMs: 1.5 }, 'resourceIntervalMs'],
    ['allow not an array', { allow: 'python.call.*' }, 'allow'],
    ['a malformed pattern', { deny: ['python call'] }, 'deny'],
    ['an unknown setting', { sample: 0.5 }, 'sample'],
  ])('refuses %s with invalid_argument naming the field, telling no worker', (_label, bad, field) => {
    const a = fakeWorker('v', 'p', 'acks');
    unregister.push(registerWorker(a.worker));
    expect(() => configure(bad as TelemetryControl)).toThrow(expect.objectContaining({ code: 'invalid_argument', details: expect.objectContaining({ field }) }));
    expect(a.told).toEqual([]);
  });

  it('setSampling validates its rate (0..1) and its patterns', () => {
    for (const rate of [2, -1, Number.NaN, Infinity]) expect(() => setSampling(rate)).toThrow(expect.objectContaining({ code: 'invalid_argument', details: expect.objectContaining({ field: 'rate' }) }));
    expect(() => setSampling(0.5, { patterns: ['python.nothing.*'] })).toThrow(expect.objectContaining({ code: 'unknown_event' }));
    expect(() => setSampling(0.5, { workerId: 'nobody' })).toThrow(expect.objectContaining({ code: 'unknown_worker' }));
  });

  it("expands glob patterns into the catalogue's names before telling Python, and filters arriving events the same way", () => {
    const a = fakeWorker('g', 'p', 'acks');
    unregister.push(registerWorker(a.worker));
    configure({ allow: ['python.call.*', 'tool.execution.st*'] });
    expect(a.told.at(-1)!.allow).toEqual([
      'snakepit.python.call.start',
      'snakepit.python.call.stop',
      'snakepit.python.call.exception',
      'snakepit.python.tool.execution.start',
      'snakepit.python.tool.execution.stop',
    ]);
    expect(admit('g', 'snakepit.python.call.stop')).toBe(true);
    expect(admit('g', 'snakepit.python.memory.sampled')).toBe(false);
    configure({ allow: null, deny: ['*.sampled'] });
    expect(a.told.at(-1)).toEqual({ allow: null, deny: ['snakepit.python.memory.sampled', 'snakepit.python.cpu.sampled'] });
    expect(admit('g', 'snakepit.python.cpu.sampled')).toBe(false);
    expect(admit('g', 'snakepit.python.gc.completed')).toBe(true);
    expect(() => configure({ allow: ['python.nothing.*'] })).toThrow(expect.objectContaining({ code: 'unknown_event', details: expect.objectContaining({ pattern: 'python.nothing.*' }) }));
  });

  it('controls one worker: its own settings win over its pool, others are untouched, and the stream lists them', () => {
    const a = fakeWorker('w1', 'p', 'acks');
    const b = fakeWorker('w2', 'p', 'acks');
    for (const f of [a, b]) unregister.push(registerWorker(f.worker));
    expect(configure({ enabled: false }, { workerId: 'w1' })).toBe(1);
    expect(a.told).toEqual([{ enabled: false }]);
    expect(b.told).toEqual([]);
    expect(admit('w1', 'snakepit.python.call.start')).toBe(false);
    expect(admit('w2', 'snakepit.python.call.start')).toBe(true);
    configure({ sampling: 0.25 }, 'p');
    const [one, two] = streamsInfo().filter((s) => s.pool === 'p');
    expect(one).toMatchObject({ workerId: 'w1', settings: { enabled: false, sampling: 0.25 }, received: 1 });
    expect(two).toMatchObject({ workerId: 'w2', settings: { enabled: true, sampling: 0.25 }, received: 1 });
    expect(one!.lastEventAt).toBeGreaterThan(0);
    // A pool-wide change of the same key overrides the worker's own.
    configure({ enabled: true }, 'p');
    expect(admit('w1', 'snakepit.python.call.start')).toBe(true);
    expect(() => configure({ enabled: false }, { workerId: 'gone' })).toThrow(expect.objectContaining({ code: 'unknown_worker' }));
  });

  it('a rate for event patterns is applied by the host to those events only, and a later overall rate replaces it', () => {
    const a = fakeWorker('s1', 'p', 'acks');
    unregister.push(registerWorker(a.worker));
    expect(setSampling(0, { patterns: ['python.call.*'] })).toBe(0);
    expect(a.told).toEqual([]); // Python keeps sending; the host drops what the patterns match
    expect(admit('s1', 'snakepit.python.call.stop')).toBe(false);
    expect(admit('s1', 'snakepit.python.tool.execution.stop')).toBe(true);
    expect(streamsInfo().find((s) => s.workerId === 's1')!.settings.samplingPatterns).toEqual([{ patterns: ['python.call.*'], rate: 0 }]);
    // A worker's own pattern rate is consulted before the global one.
    setSampling(1, { patterns: ['python.call.stop'], workerId: 's1' });
    expect(admit('s1', 'snakepit.python.call.stop')).toBe(true);
    expect(admit('s1', 'snakepit.python.call.start')).toBe(false);
    setSampling(1);
    expect(admit('s1', 'snakepit.python.call.start')).toBe(true);
    expect(streamsInfo().find((s) => s.workerId === 's1')!.settings.samplingPatterns).toEqual([]);
  });

  it('forgets a worker (and its own settings) when it unregisters', () => {
    const a = fakeWorker('bye', 'p', 'acks');
    const off = registerWorker(a.worker);
    configure({ enabled: false }, { workerId: 'bye' });
    off();
    expect(streamsInfo().map((s) => s.workerId)).not.toContain('bye');
    const again = fakeWorker('bye', 'p', 'acks');
    unregister.push(registerWorker(again.worker));
    expect(admit('bye', 'snakepit.python.call.start')).toBe(true);
  });
});
