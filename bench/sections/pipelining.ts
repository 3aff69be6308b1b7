/**
 * Pipelining with work stealing: short calls' tail latency with a long call running in the pool, beside the
 * same load with no long call (default config, 2 workers): a long call must not hold the short ones behind it.
 */
import { benchPool, IN_FLIGHT, knobs, POOL_SIZE, row, startPool, type Section } from './common.js';

/** Each short call's latency (µs) for `total` echo calls, `inFlight` at a time. */
async function shortCallLatencies(call: () => Promise<unknown>, total: number, inFlight: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const lane = async () => {
    while (next++ < total) {
      const t0 = process.hrtime.bigint();
      await call();
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return latencies.sort((a, b) => a - b);
}

const p99 = (sorted: number[]) => sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;

async function run(withLongCall: boolean): Promise<number> {
  const sp = await startPool(benchPool({}));
  try {
    const echo = () => sp.execute('echo', { value: 'x' });
    await shortCallLatencies(echo, knobs.warmup * 4, IN_FLIGHT);
    const long = withLongCall ? sp.execute('sleep', { ms: 600_000 }, { timeoutMs: 700_000 }).catch(() => undefined) : undefined;
    const latencies = await shortCallLatencies(echo, knobs.throughputCalls / 5, IN_FLIGHT);
    void long;
    return p99(latencies);
  } finally {
    await sp.stop({ timeoutMs: 200 });
  }
}

export const pipeliningSection: Section = {
  id: 'pipelining',
  title: `pipelining: short calls' p99, ${POOL_SIZE} workers, ${IN_FLIGHT} in flight, with one long call running vs none (default config)`,
  async run() {
    const without: number[] = [];
    const withLong: number[] = [];
    for (let i = 0; i < knobs.throughputRounds; i++) {
      without.push(await run(false));
      withLong.push(await run(true));
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    return [row('pipelining', 'short calls p99 with a long call running', 'µs', 'no long call', median(without), median(withLong), '<= 2')];
  },
};
