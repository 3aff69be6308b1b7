/**
 * Telemetry overhead: tiny-echo latency with one subscriber on every event vs no subscriber.
 * Both are measured on the same pool, in alternating blocks of calls: two pools differ by where
 * the scheduler puts their processes (on this VM a round trip is bimodal, ~20 or ~80 µs), which
 * would swamp a 5% difference.
 */
import { telemetry } from '../../src/index.js';
import { percentile } from '../stats.js';
import { knobs, median, row, snakepitTarget, type Section } from './common.js';

const BLOCK_CALLS = 50;
const HANDLER_ID = 'bench-overhead';

interface Side {
  samples: number[];
  cpuUs: number;
  calls: number;
}

/** Times `calls` sequential calls into `side`. */
async function block(call: () => Promise<unknown>, calls: number, side: Side): Promise<void> {
  const cpu = process.cpuUsage();
  for (let i = 0; i < calls; i++) {
    const start = process.hrtime.bigint();
    await call();
    side.samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  const used = process.cpuUsage(cpu);
  side.cpuUs += used.user + used.system;
  side.calls += calls;
}

/** One round: a fresh pool, blocks alternating off / on (the first of each pair alternates too). */
async function round(): Promise<{ off: Side; on: Side; events: number }> {
  const target = await snakepitTarget(0);
  const off: Side = { samples: [], cpuUs: 0, calls: 0 };
  const on: Side = { samples: [], cpuUs: 0, calls: 0 };
  let events = 0;
  const subscribe = () =>
    telemetry.attach(HANDLER_ID, telemetry.events(), () => {
      events++;
    });
  try {
    for (let i = 0; i < knobs.warmup; i++) await target.call();
    const blocks = Math.max(2, Math.round(knobs.latencyCalls / BLOCK_CALLS));
    for (let b = 0; b < blocks; b++) {
      const onFirst = b % 2 === 1;
      for (const withSubscriber of onFirst ? [true, false] : [false, true]) {
        if (withSubscriber) subscribe();
        try {
          await block(target.call, BLOCK_CALLS, withSubscriber ? on : off);
        } finally {
          if (withSubscriber) telemetry.detach(HANDLER_ID);
        }
      }
    }
  } finally {
    await target.close();
  }
  if (events === 0) throw new Error('bench: the telemetry subscriber saw no event');
  return { off, on, events };
}

const summary = (side: Side) => {
  const sorted = [...side.samples].sort((a, b) => a - b);
  return { p50Us: percentile(sorted, 50), p99Us: percentile(sorted, 99), cpuUsPerCall: side.cpuUs / side.calls };
};

export const telemetrySection: Section = {
  id: 'telemetry',
  title: 'telemetry overhead (pipe, sequential tiny echo, one pool, alternating blocks; floor: no subscriber, events cost one hasSubscribers check)',
  async run() {
    const offRounds: ReturnType<typeof summary>[] = [];
    const onRounds: ReturnType<typeof summary>[] = [];
    for (let r = 0; r < knobs.latencyRounds; r++) {
      const { off, on } = await round();
      offRounds.push(summary(off));
      onRounds.push(summary(on));
    }
    const med = (rounds: ReturnType<typeof summary>[], key: 'p50Us' | 'p99Us' | 'cpuUsPerCall') => median(rounds.map((x) => x[key]));
    return [
      row('telemetry', 'sequential echo p50, 1 subscriber on every event', 'µs', 'telemetry off', med(offRounds, 'p50Us'), med(onRounds, 'p50Us'), '<= 1.05'),
      row('telemetry', 'sequential echo p99, 1 subscriber on every event', 'µs', 'telemetry off', med(offRounds, 'p99Us'), med(onRounds, 'p99Us')),
      // Host CPU per call: what the subscriber costs, without the machine's load in it.
      row('telemetry', 'host CPU per sequential call, 1 subscriber on every event', 'µs', 'telemetry off', med(offRounds, 'cpuUsPerCall'), med(onRounds, 'cpuUsPerCall')),
    ];
  },
};
