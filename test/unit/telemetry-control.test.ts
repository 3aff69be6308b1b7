// telemetry.control: settings reach running workers (and later ones); settled() waits for their acks.
import { afterEach, describe, expect, it } from 'vitest';
import { attach, detach } from '../../src/telemetry/bus.js';
import { configure, registerWorker, settled, type ControllableWorker, type TelemetryControl } from '../../src/telemetry/python-events.js';

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
    configure({ sampling: 1, allow: null, deny: [], enabled: true, resourceIntervalMs: 0 });
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

  it("gives a worker that starts later its pool's settings", () => {
    configure({ sampling: 0.5, deny: ['memory.sampled'] }, 'p');
    const late = fakeWorker('late', 'p', 'acks');
    unregister.push(registerWorker(late.worker));
    expect(late.told).toEqual([expect.objectContaining({ sampling: 0.5, deny: ['memory.sampled'] })]);
    late.acks[0]!.resolve();
  });

  it("turns Python's own call events on while a handler listens to one of them, off after the last detach", () => {
    configure({ sampling: 1 }); // so registering sends exactly one settings message first
    const w = fakeWorker('w', 'p', 'acks');
    unregister.push(registerWorker(w.worker));
    const told = () => w.told.slice(1); // after the settings it got when it registered
    attach('unit-other', ['snakepit.python.custom'], () => {});
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
});
