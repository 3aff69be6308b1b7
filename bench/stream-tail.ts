/**
 * Where a stream's yield -> consumer tail comes from, for profiling work: `npx tsx bench/stream-tail.ts`
 * (or the built `node dist/bench/stream-tail.js`). Rounds alternate the targets (TARGETS, default
 * `raw,pipe,grpc`; also `pipe-iter`/`grpc-iter`: a `for await` consumer, flow control in play, HWM sets its streamHighWaterMark;
 * `pipe-thread`: the worker's portable reader thread instead of the lazy watch, SNAKEPIT_READER=thread),
 * N chunks each (default 5000), SPIN_US of GIL-holding work before each of our chunks. Per target:
 * delay percentiles, backlog (chunks stamped, not yet consumed, when a chunk is consumed), host
 * and worker CPU per chunk, Node's GC pauses, and consumer stalls (a gap over 300 µs between two
 * chunks while the second was already stamped): how many a GC overlapped, how many held a single
 * chunk in Python (the worker descheduled between its stamp and its write), and where in the
 * stream they fell.
 */
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { RawEcho } from './raw-floor.js';
import { benchDir, benchPool, python, startPool } from './sections/common.js';
import { childrenCpuUs, percentile } from './stats.js';

const chunks = Number(process.env.N ?? 5_000);
const rounds = Number(process.env.ROUNDS ?? 5);
const targets = (process.env.TARGETS ?? 'raw,pipe,grpc').split(',');
/** CPU-bound work (µs, the GIL held) before each chunk of our targets (not the raw floor's). */
const spinUs = Number(process.env.SPIN_US ?? 0);

interface Stamped {
  i: number;
  t: number | bigint;
}
interface StreamTarget {
  stream: (n: number, onChunk: (c: Stamped) => void) => Promise<unknown>;
  close: () => Promise<void> | void;
}

const wallUs = () => (performance.timeOrigin + performance.now()) * 1000;

const makers: Record<string, () => Promise<StreamTarget>> = {
  raw: async () => {
    const echo = new RawEcho(python, benchDir);
    return { stream: (n, onChunk) => echo.stream(n, (c) => onChunk(c as Stamped)), close: () => echo.close() };
  },
  pipe: async () => {
    const sp = await startPool(benchPool({ transport: 'pipe', poolSize: 1 }));
    return { stream: (n, onChunk) => sp.executeStream<Stamped>('stamped', { n, spin_us: spinUs }, onChunk), close: () => sp.stop() };
  },
  grpc: async () => {
    const sp = await startPool(benchPool({ transport: 'grpc', poolSize: 1 }));
    return { stream: (n, onChunk) => sp.executeStream<Stamped>('stamped', { n, spin_us: spinUs }, onChunk), close: () => sp.stop() };
  },
  'pipe-iter': () => iterated('pipe'),
  'pipe-thread': async () => {
    const sp = await startPool(benchPool({ transport: 'pipe', poolSize: 1, adapterEnv: { SNAKEPIT_READER: 'thread' } }));
    return { stream: (n, onChunk) => sp.executeStream<Stamped>('stamped', { n, spin_us: spinUs }, onChunk), close: () => sp.stop() };
  },
  'grpc-iter': () => iterated('grpc'),
};

/**
 * BASE_DIST=/path/to/other/checkout/dist adds `base-pipe`, `base-grpc`: the same streams through
 * another build of snakepit (its own Python package too), for A/B figures in one run.
 */
async function baseTarget(transport: 'pipe' | 'grpc'): Promise<StreamTarget> {
  const base = (await import(`${process.env.BASE_DIST}/bench/sections/common.js`)) as typeof import('./sections/common.js');
  const sp = await base.startPool(base.benchPool({ transport, poolSize: 1 }));
  return { stream: (n, onChunk) => sp.executeStream<Stamped>('stamped', { n, spin_us: spinUs }, onChunk), close: () => sp.stop() };
}
makers['base-pipe'] = () => baseTarget('pipe');
makers['base-grpc'] = () => baseTarget('grpc');

/** `for await` over sp.stream(): the consumer's buffer and its flow control (credit) in play. */
async function iterated(transport: 'pipe' | 'grpc'): Promise<StreamTarget> {
  const sp = await startPool(benchPool({ transport, poolSize: 1, ...(process.env.HWM ? { streamHighWaterMark: Number(process.env.HWM) } : {}) }));
  return {
    async stream(n, onChunk) {
      for await (const chunk of sp.stream<Stamped>('stamped', { n, spin_us: spinUs })) onChunk(chunk);
    },
    close: () => sp.stop(),
  };
}

interface Sample {
  delays: number[];
  backlog: number[];
  hostUs: number;
  workerUs: number;
  rate: number;
  gcMs: number[];
  /** Of the slowest 1% of chunks: how many were consumed within 2 ms after a GC pause ended. */
  tailAfterGc: number;
  tail: number;
  /** Consumer stalls: gaps over STALL_US between two chunks while the second already waited. */
  stalls: number[];
  /** Of those, the ones a GC pause overlapped. */
  stallsInGc: number;
  /** Where in the stream each stall happened (0..1). */
  stallAt: number[];
  /** Stalls during which Python stamped only the one chunk (it was held in Python, not in Node). */
  producerStalls: number;
}

const STALL_US = 300;

async function round(make: () => Promise<StreamTarget>): Promise<Sample> {
  const target = await make();
  try {
    await target.stream(100, () => undefined);
    const stamped: number[] = [];
    const consumed: number[] = [];
    const gcs: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
    observer.observe({ entryTypes: ['gc'] });
    const host = process.cpuUsage();
    const workers = childrenCpuUs();
    const start = performance.now();
    await target.stream(chunks, (c) => {
      consumed.push(wallUs());
      stamped.push(Number(c.t) / 1000);
    });
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(host);
    const workerUs = (childrenCpuUs() - workers) / chunks;
    await new Promise((resolve) => setImmediate(resolve)); // the observer's last entries
    observer.disconnect();
    const delays = consumed.map((c, i) => c - stamped[i]!);
    // Backlog when chunk i is consumed: chunks j > i already stamped (stamps only grow).
    const backlog: number[] = [];
    let j = 0;
    for (let i = 0; i < consumed.length; i++) {
      if (j < i) j = i;
      while (j + 1 < stamped.length && stamped[j + 1]! <= consumed[i]!) j++;
      backlog.push(j - i);
    }
    const gcEndsUs = gcs.map((g) => (performance.timeOrigin + g.startTime + g.duration) * 1000);
    const cutoff = [...delays].sort((a, b) => a - b)[Math.floor(delays.length * 0.99)]!;
    let tail = 0;
    let tailAfterGc = 0;
    for (let i = 0; i < delays.length; i++) {
      if (delays[i]! < cutoff) continue;
      tail++;
      if (gcEndsUs.some((end) => consumed[i]! >= end && consumed[i]! - end < 2_000)) tailAfterGc++;
    }
    const gcSpansUs = gcs.map((g) => [(performance.timeOrigin + g.startTime) * 1000, (performance.timeOrigin + g.startTime + g.duration) * 1000] as const);
    const stalls: number[] = [];
    const stallAt: number[] = [];
    let stallsInGc = 0;
    let producerStalls = 0;
    for (let i = 1; i < consumed.length; i++) {
      const gap = consumed[i]! - consumed[i - 1]!;
      if (gap < STALL_US || stamped[i]! > consumed[i - 1]!) continue; // short, or the producer was the one idle
      stalls.push(gap);
      stallAt.push(i / consumed.length);
      if (i + 1 >= stamped.length || stamped[i + 1]! > consumed[i - 1]!) producerStalls++;
      if (gcSpansUs.some(([from, to]) => from < consumed[i]! && to > consumed[i - 1]!)) stallsInGc++;
    }
    return { delays, backlog, hostUs: (used.user + used.system) / chunks, workerUs, rate: chunks / seconds, gcMs: gcs.map((g) => g.duration), tailAfterGc, tail, stalls, stallsInGc, stallAt, producerStalls };
  } finally {
    await target.close();
  }
}

const samples: Record<string, Sample[]> = Object.fromEntries(targets.map((t) => [t, []]));
for (let r = 0; r < rounds; r++) for (const t of targets) samples[t]!.push(await round(makers[t]!));

const f = (v: number, w = 8) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 1 : 0) : String(v)).padStart(w);
const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.log(`stream tail: ${rounds} rounds x ${chunks} chunks; medians over rounds (µs unless said)`);
console.log(`${'target'.padEnd(8)}${'p50'.padStart(8)}${'p90'.padStart(8)}${'p99'.padStart(8)}${'p99.9'.padStart(8)}${'max'.padStart(8)}${'backlog50'.padStart(10)}${'backlog99'.padStart(10)}${'chunks/s'.padStart(9)}${'hostCPU'.padStart(8)}${'pyCPU'.padStart(8)}${'GCs'.padStart(5)}${'GCms'.padStart(7)}  tail after GC`);
for (const t of targets) {
  const s = samples[t]!;
  const pct = (p: number) => med(s.map((x) => percentile([...x.delays].sort((a, b) => a - b), p)));
  const bl = (p: number) => med(s.map((x) => percentile([...x.backlog].sort((a, b) => a - b), p)));
  const gcTotal = med(s.map((x) => x.gcMs.reduce((a, b) => a + b, 0)));
  const after = s.reduce((a, x) => a + x.tailAfterGc, 0);
  const tail = s.reduce((a, x) => a + x.tail, 0);
  console.log(
    `${t.padEnd(8)}${f(pct(50))}${f(pct(90))}${f(pct(99))}${f(pct(99.9))}${f(pct(100))}${f(bl(50), 10)}${f(bl(99), 10)}${f(med(s.map((x) => x.rate)), 9)}${f(med(s.map((x) => x.hostUs)))}${f(med(s.map((x) => x.workerUs)))}${f(med(s.map((x) => x.gcMs.length)), 5)}${f(gcTotal, 7)}  ${after}/${tail}`,
  );
}
const p99s = (t: string) => samples[t]!.map((x) => percentile([...x.delays].sort((a, b) => a - b), 99));
console.log(`p99 by round: ${targets.map((t) => `${t} [${p99s(t).map((v) => v.toFixed(0)).join(' ')}]`).join('; ')}`);
for (const t of targets) {
  const all = samples[t]!.flatMap((x) => x.stalls).sort((a, b) => a - b);
  const inGc = samples[t]!.reduce((a, x) => a + x.stallsInGc, 0);
  const total = all.reduce((a, b) => a + b, 0);
  const deciles = Array.from({ length: 10 }, (_, d) => samples[t]!.flatMap((x) => x.stallAt).filter((a) => Math.floor(a * 10) === d).length);
  console.log(`${t}: consumer stalls > ${STALL_US} µs: ${all.length} (${inGc} during a GC, ${samples[t]!.reduce((a, x) => a + x.producerStalls, 0)} with one chunk held in Python), ${(total / 1000).toFixed(1)} ms in all, largest ${all.slice(-5).map((v) => v.toFixed(0)).join(' ')} µs; by tenth of the stream ${deciles.join(' ')}`);
}
