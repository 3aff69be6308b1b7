/**
 * `sp.map`: 100k tiny echoes as one map (chunks of inputs run back to back in Python), against the
 * raw pipe floor's per-call throughput (2 processes, 16 calls in flight): how far batching goes past
 * what any per-call bridge can do. Rounds alternate floor and us.
 */
import { measureThroughput } from '../stats.js';
import { benchPool, IN_FLIGHT, knobs, median, POOL_SIZE, rawTarget, row, startPool, type Section } from './common.js';

/** Inputs per map, per round. */
const ITEMS = Number(process.env.BENCH_MAP_ITEMS ?? (knobs.throughputCalls >= 50_000 ? 100_000 : 20_000));

interface Round {
  rate: number;
  /** Host CPU (user + system) per call or input, µs. */
  cpuUs: number;
}

/** One round of the floor: calls/s over `knobs.throughputCalls` echoes. */
async function rawRound(): Promise<Round> {
  const target = rawTarget(POOL_SIZE);
  try {
    await measureThroughput(target.call, knobs.warmup * 4, IN_FLIGHT);
    const cpu = process.cpuUsage();
    const rate = await measureThroughput(target.call, knobs.throughputCalls, IN_FLIGHT);
    const used = process.cpuUsage(cpu);
    return { rate, cpuUs: (used.user + used.system) / knobs.throughputCalls };
  } finally {
    target.close();
  }
}

/** One round of ours: inputs/s of one map of `ITEMS` echoes (after a warm-up map), and host CPU µs per input. */
async function mapRound(transport: 'pipe' | 'grpc'): Promise<Round> {
  const sp = await startPool(benchPool({ transport }));
  try {
    const inputs = Array.from({ length: ITEMS }, () => ({ value: 'x' }));
    await sp.map('echo', inputs.slice(0, Math.min(ITEMS, 10_000)));
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    const out = await sp.map('echo', inputs);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    if (out.length !== ITEMS || out[ITEMS - 1] !== 'x') throw new Error('map bench: wrong results');
    return { rate: ITEMS / seconds, cpuUs: (used.user + used.system) / ITEMS };
  } finally {
    await sp.stop();
  }
}

export const mapSection: Section = {
  id: 'map',
  title: `sp.map: ${ITEMS} tiny echoes as one map (floor: raw pipe echo per call, ${POOL_SIZE} processes, ${IN_FLIGHT} in flight)`,
  async run() {
    const s = 'map';
    const raw: Round[] = [];
    const pipe: Round[] = [];
    const grpc: Round[] = [];
    for (let r = 0; r < knobs.throughputRounds; r++) {
      raw.push(await rawRound());
      pipe.push(await mapRound('pipe'));
      grpc.push(await mapRound('grpc'));
    }
    const rate = (rounds: Round[]) => median(rounds.map((r) => r.rate));
    const cpu = (rounds: Round[]) => median(rounds.map((r) => r.cpuUs));
    const what = `map, ${ITEMS / 1000}k tiny items, ${POOL_SIZE} workers, auto chunks`;
    return [
      row(s, `${what} (pipe)`, 'items/s', 'raw pipe per call', rate(raw), rate(pipe), '>= 5'),
      row(s, `${what} (grpc)`, 'items/s', 'raw pipe per call', rate(raw), rate(grpc)),
      row(s, 'host CPU per item (pipe)', 'µs', 'raw pipe per call', cpu(raw), cpu(pipe)),
      row(s, 'host CPU per item (grpc)', 'µs', 'raw pipe per call', cpu(raw), cpu(grpc)),
    ];
  },
};
