// A compact result may carry its call's times (docs/protocol.md, "Compact frames"): `[1, id, value, flags, systemTimeNs,
// durationNs]`. The host publishes the bridge's python.call.start / python.call.stop from them before the call ends, as
// if they had come in a telemetry frame, and asks for them with `callTimes` in its telemetry settings.
import { describe, expect, it } from 'vitest';
import type { WirePythonEvent } from '../../../../src/telemetry/python-events.js';
import { CARRIES, COMPACT } from '../../../../src/transport/pipe/frames.js';
import { pipeHarness, workerFrame as frame } from '../../../helpers/pipe-harness.js';
import { outgoingCall } from '../../../helpers/transport-calls.js';

/** A protocol-2 worker's transport; `published` collects what reaches the telemetry fold, with how many calls had ended then. */
async function harness() {
  const published: { events: WirePythonEvent[]; ended: number }[] = [];
  let ended = 0;
  const h = await pipeHarness(2, {
    onTelemetry: (events) => published.push({ events, ended }),
    wrapEvents: (events) => ({ ...events, ended: (...args) => (ended++, events.ended(...args)) }),
  });
  return { ...h, published };
}

const SYSTEM_TIME_NS = 1_765_000_000_123_456_789n; // past 2^53: msgpack uint64, decoded as a bigint

describe('call times in compact results', () => {
  it('become python.call.start and python.call.stop, published before the call ends', async () => {
    const h = await harness();
    const result = h.calls.call(h.transport, outgoingCall({ tool: 'echo', args: {}, correlationId: 'corr-1' }));
    const sent = (await h.sent()) as unknown[];
    h.input.write(frame([COMPACT.result, sent[1], 'v', CARRIES.start | CARRIES.stop, SYSTEM_TIME_NS, 2_500_000]));
    await expect(result).resolves.toBe('v');
    expect(h.published).toHaveLength(1);
    expect(h.published[0]!.ended).toBe(0); // before the call's end: where a telemetry frame sent before the answer lands
    const [start, stop] = h.published[0]!.events;
    expect(start).toEqual({
      name: 'snakepit.python.call.start',
      measurements: { count: 1, system_time: SYSTEM_TIME_NS },
      metadata: { command: 'echo', tool: 'echo' },
      correlation_id: 'corr-1',
      ts: Number(SYSTEM_TIME_NS) / 1e9,
    });
    expect(stop).toEqual({
      name: 'snakepit.python.call.stop',
      measurements: { count: 1, duration: 2_500_000, duration_ms: 2.5 },
      metadata: { command: 'echo', tool: 'echo' },
      correlation_id: 'corr-1',
      ts: Number(SYSTEM_TIME_NS) / 1e9 + 0.0025,
    });
  });

  it.each([
    ['the stop only', CARRIES.stop, ['snakepit.python.call.stop']],
    ['the start only', CARRIES.start, ['snakepit.python.call.start']],
    ['neither', 0, []],
  ])('carry what the flags say: %s', async (_label, flags, names) => {
    const h = await harness();
    const result = h.calls.call(h.transport, outgoingCall({ tool: 'echo', args: {} }));
    const sent = (await h.sent()) as unknown[];
    h.input.write(frame([COMPACT.result, sent[1], 1, flags, 1_000, 5]));
    await expect(result).resolves.toBe(1);
    expect(h.published.flatMap((p) => p.events.map((e) => e.name))).toEqual(names);
    if (names.length) expect(h.published[0]!.events[0]!.correlation_id).toBeNull(); // no correlation id: as Python sends none
  });

  it("name the caller's own metadata correlation_id, which Python keeps over the host's", async () => {
    const h = await harness();
    // A call with metadata goes as a map; a worker that has had a compact call answers it compact.
    const result = h.calls.call(h.transport, outgoingCall({ tool: 'echo', args: {}, correlationId: 'host-corr', metadata: { correlation_id: 'mine' } }));
    const sent = (await h.sent()) as { id: number };
    h.input.write(frame([COMPACT.result, sent.id, 'v', CARRIES.stop, 1_000, 5]));
    await expect(result).resolves.toBe('v');
    expect(h.published[0]!.events[0]!.correlation_id).toBe('mine');
  });

  it.each([
    ['too few elements', (id: unknown) => [COMPACT.result, id, 'v', CARRIES.stop, 1_000]],
    ['flags not a number', (id: unknown) => [COMPACT.result, id, 'v', 'x', 1_000, 5]],
    ['a time not a number', (id: unknown) => [COMPACT.result, id, 'v', CARRIES.stop, '1000', 5]],
    ['a duration not a number', (id: unknown) => [COMPACT.result, id, 'v', CARRIES.stop, 1_000, null]],
  ])('a compact result with malformed times (%s) fails the link with protocol_error', async (_label, make) => {
    const h = await harness();
    const result = h.calls.call(h.transport, outgoingCall({ tool: 'echo', args: {} }));
    const sent = (await h.sent()) as unknown[];
    h.input.write(frame(make(sent[1])));
    await expect(result).rejects.toMatchObject({ code: 'protocol_error' });
    expect(h.published).toEqual([]);
  });

  it('the host asks for them: its telemetry settings go out with callTimes', async () => {
    const h = await harness();
    await h.transport.configureTelemetry({ sampling: 1, allow: null, deny: [], enabled: true, resourceIntervalMs: 0, callEvents: true });
    expect(await h.sent()).toMatchObject({ t: 'telemetry_control', callEvents: true, callTimes: true });
  });
});
