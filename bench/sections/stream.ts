/**
 * Streaming: time from a Python `yield` to the Node consumer, and chunks/s. Python stamps each chunk
 * with time.time_ns(); Node compares it with its own wall clock (performance.timeOrigin + now(),
 * µs resolution). Both clocks are this machine's. Floor: the raw pipe echo writing stamped chunks in a loop.
 */
import { percentile } from '../stats.js';
import { RawEcho } from '../raw-floor.js';
import { benchDir, benchPool, startPool, knobs, median, python, row, type Section } from './common.js';

interface Stamped {
  i: number;
  t: number | bigint;
}

const wallUs = () => (performance.timeOrigin + performance.now()) * 1000;

interface StreamRun {
  stream: (n: number, onChunk: (c: Stamped) => void) => Promise<unknown>;
  close: () => Promise<void> | void;
}

/** One round: a warm-up stream, then `n` chunks timed; the p50 and p99 yield-to-consumer delay and chunks/s. */
async function round(make: () => Promise<StreamRun>, n: number) {
  const target = await make();
  try {
    await target.stream(100, () => undefined);
    const delays: number[] = [];
    const start = performance.now();
    await target.stream(n, (c) => delays.push(wallUs() - Number(c.t) / 1000));
    const seconds = (performance.now() - start) / 1000;
    delays.sort((a, b) => a - b);
    return { p50: percentile(delays, 50), p99: percentile(delays, 99), rate: delays.length / seconds };
  } finally {
    await target.close();
  }
}

const rawRun = async (): Promise<StreamRun> => {
  const echo = new RawEcho(python, benchDir);
  return { stream: (n, onChunk) => echo.stream(n, (c) => onChunk(c as Stamped)), close: () => echo.close() };
};

const ourRun = (transport: 'pipe' | 'grpc') => async (): Promise<StreamRun> => {
  const sp = await startPool(benchPool({ transport, poolSize: 1 }));
  return { stream: (n, onChunk) => sp.executeStream<Stamped>('stamped', { n }, onChunk), close: () => sp.stop() };
};

export const streamSection: Section = {
  id: 'stream',
  title: 'streaming: Python yield -> Node consumer (floor: raw pipe writing stamped chunks in a loop)',
  async run() {
    const makers = [rawRun, ourRun('pipe'), ourRun('grpc')];
    const results = makers.map(() => ({ p50: [] as number[], p99: [] as number[], rate: [] as number[] }));
    for (let r = 0; r < knobs.streamRounds; r++) {
      for (const [i, make] of makers.entries()) {
        const got = await round(make, knobs.streamChunks);
        results[i]!.p50.push(got.p50);
        results[i]!.p99.push(got.p99);
        results[i]!.rate.push(got.rate);
      }
    }
    const [raw, pipe, grpc] = results.map((r) => ({ p50: median(r.p50), p99: median(r.p99), rate: median(r.rate) }));
    return [
      row('stream', 'yield -> consumer p50, pipe transport', 'µs', 'raw pipe', raw!.p50, pipe!.p50),
      row('stream', 'yield -> consumer p99, pipe transport', 'µs', 'raw pipe', raw!.p99, pipe!.p99, '<= 1.5'),
      row('stream', 'chunks/s, pipe transport', 'chunks/s', 'raw pipe', raw!.rate, pipe!.rate),
      row('stream', 'yield -> consumer p50, grpc transport', 'µs', 'raw pipe', raw!.p50, grpc!.p50),
      row('stream', 'yield -> consumer p99, grpc transport', 'µs', 'raw pipe', raw!.p99, grpc!.p99),
      row('stream', 'chunks/s, grpc transport', 'chunks/s', 'raw pipe', raw!.rate, grpc!.rate),
      row('stream', 'chunks/s, grpc transport', 'chunks/s', 'pipe transport', pipe!.rate, grpc!.rate, '>= 0.5'),
    ];
  },
};
