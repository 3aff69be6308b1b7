/** Telemetry overhead: tiny-echo latency with one subscriber on every event vs no subscriber. */
import { telemetry } from '../../src/index.js';
import { compareLatency, snakepitTarget, row, type Section, type Target } from './common.js';

/** Our pool with one handler attached to the whole catalog (detached on close). */
async function withSubscriber(): Promise<Target> {
  const target = await snakepitTarget(0);
  let events = 0;
  telemetry.attach('bench-overhead', telemetry.events(), () => {
    events++;
  });
  return {
    call: target.call,
    close: async () => {
      telemetry.detach('bench-overhead');
      await target.close();
      if (events === 0) throw new Error('bench: the telemetry subscriber saw no event');
    },
  };
}

export const telemetrySection: Section = {
  id: 'telemetry',
  title: 'telemetry overhead (pipe, sequential tiny echo; floor: no subscriber, events cost one hasSubscribers check)',
  async run() {
    const [off, on] = await compareLatency([() => snakepitTarget(0), withSubscriber]);
    return [
      row('telemetry', 'sequential echo p50, 1 subscriber on every event', 'µs', 'telemetry off', off!.p50Us, on!.p50Us, '<= 1.05'),
      row('telemetry', 'sequential echo p99, 1 subscriber on every event', 'µs', 'telemetry off', off!.p99Us, on!.p99Us),
    ];
  },
};
