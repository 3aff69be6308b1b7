/**
 * Telemetry overhead: tiny-echo latency with one subscriber on every event, and with one on
 * `snakepit.call.stop` only (the guide's slow-call logger), vs no subscriber.
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

type Mode = 'off' | 'all' | 'stop';
const MODES: Mode[] = ['off', 'all', 'stop'];

/** One round: a fresh pool, blocks rotating off / every event / call.stop only (the order rotates too). */
async function round(): Promise<{ sides: Record<Mode, Side>; events: number }> {
  const target = await snakepitTarget(0);
  const side = (): Side => ({ samples: [], cpuUs: 0, calls: 0 });
  const sides: Record<Mode, Side> = { off: side(), all: side(), stop: side() };
  let events = 0;
  const subscribe = (mode: Mode) => {
    if (mode === 'off') return;
    telemetry.attach(HANDLER_ID, mode === 'all' ? telemetry.events() : ['snakepit.call.stop'], () => {
      events++;
    });
  };
  try {
    for (let i = 0; i < knobs.warmup; i++) await target.call();
    const blocks = Math.max(3, Math.round(knobs.latencyCalls / BLOCK_CALLS));
    for (let b = 0; b < blocks; b++) {
      const order = [...MODES.slice(b % 3), ...MODES.slice(0, b % 3)];
      for (const mode of order) {
        subscribe(mode);
        try {
          await block(target.call, BLOCK_CALLS, sides[mode]);
        } finally {
          if (mode !== 'off') telemetry.detach(HANDLER_ID);
        }
      }
    }
  } finally {
    await target.close();
  }
  if (events === 0) throw new Error('bench: the telemetry subscriber saw no event');
  return { sides, events };
}

const summary = (side: Side) => {
  const sorted = [...side.samples].sort((a, b) => a - b);
  return { p50Us: percentile(sorted, 50), p99Us: percentile(sorted, 99), cpuUsPerCall: side.cpuUs / side.calls };
};

export const telemetrySection: Section = {
  id: 'telemetry',
  title: 'telemetry overhead (pipe, sequential tiny echo, one pool, rotating blocks; floor: no subscriber, events cost one hasSubscribers check)',
  async run() {
    const rounds: Record<Mode, ReturnType<typeof summary>[]> = { off: [], all: [], stop: [] };
    for (let r = 0; r < knobs.latencyRounds; r++) {
      const { sides } = await round();
      for (const mode of MODES) rounds[mode].push(summary(sides[mode]));
    }
    const med = (mode: Mode, key: 'p50Us' | 'p99Us' | 'cpuUsPerCall') => median(rounds[mode].map((x) => x[key]));
    const rows = [];
    for (const [mode, label] of [['all', '1 subscriber on every event'], ['stop', '1 subscriber on snakepit.call.stop']] as const) {
      rows.push(
        row('telemetry', `sequential echo p50, ${label}`, 'µs', 'telemetry off', med('off', 'p50Us'), med(mode, 'p50Us'), '<= 1.05'),
        row('telemetry', `sequential echo p99, ${label}`, 'µs', 'telemetry off', med('off', 'p99Us'), med(mode, 'p99Us')),
        // Host CPU per call: what the subscriber costs, without the machine's load in it.
        row('telemetry', `host CPU per sequential call, ${label}`, 'µs', 'telemetry off', med('off', 'cpuUsPerCall'), med(mode, 'cpuUsPerCall')),
      );
    }
    return rows;
  },
};
