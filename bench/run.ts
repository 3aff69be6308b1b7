/**
 * `npm run bench`: our figures beside floors measured the same way in the same run, as ratios.
 * Floor = raw pipe + msgpack echo (no pool, no bridge). Targets for the pipe transport:
 * sequential p50 within 1.5x of the floor, throughput (pool of 2, 16 in flight) >= 0.6x.
 */
import path from 'node:path';
import { Snakepit } from '../src/index.js';
import { packageRoot, resolvePythonExecutable } from '../src/python/runtime.js';
import { RawEcho } from './raw-floor.js';
import { measureLatency, measureThroughput } from './stats.js';

const SEQUENTIAL_CALLS = Number(process.env.BENCH_SEQUENTIAL ?? 5_000);
const THROUGHPUT_CALLS = Number(process.env.BENCH_THROUGHPUT ?? 50_000);
const WARMUP = 500;
const IN_FLIGHT = 16;
const POOL_SIZE = 2;

const benchDir = path.join(packageRoot(), 'bench');

async function floor() {
  const python = resolvePythonExecutable();
  const one = new RawEcho(python, benchDir);
  const two = [new RawEcho(python, benchDir), new RawEcho(python, benchDir)];
  try {
    const latency = await measureLatency(() => one.call('x'), SEQUENTIAL_CALLS, WARMUP);
    let turn = 0;
    await measureThroughput(() => two[turn++ % 2]!.call('x'), WARMUP, IN_FLIGHT);
    const throughput = await measureThroughput(() => two[turn++ % 2]!.call('x'), THROUGHPUT_CALLS, IN_FLIGHT);
    return { latency, throughput };
  } finally {
    one.close();
    for (const r of two) r.close();
  }
}

async function ours(pipelineDepth: number) {
  const sp = await Snakepit.start({
    logLevel: 'error',
    pools: [{ name: 'default', poolSize: POOL_SIZE, pipelineDepth, adapter: 'bench_adapter.BenchAdapter', pythonPath: [path.join(benchDir, 'python')] }],
  });
  try {
    const latency = await measureLatency(() => sp.execute('echo', { value: 'x' }), SEQUENTIAL_CALLS, WARMUP);
    await measureThroughput(() => sp.execute('echo', { value: 'x' }), WARMUP, IN_FLIGHT);
    const throughput = await measureThroughput(() => sp.execute('echo', { value: 'x' }), THROUGHPUT_CALLS, IN_FLIGHT);
    return { latency, throughput };
  } finally {
    await sp.stop();
  }
}

const PIPELINE_DEPTH = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
type Figures = Awaited<ReturnType<typeof floor>>;
/** Median over rounds, per figure: this VM's timings drift with CPU placement between runs. */
const median = (runs: Figures[], pick: (f: Figures) => number) => {
  const values = runs.map(pick).sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)] ?? Number.NaN;
};
const collect = (runs: Figures[]): Figures => ({
  latency: { p50Us: median(runs, (r) => r.latency.p50Us), p99Us: median(runs, (r) => r.latency.p99Us) },
  throughput: median(runs, (r) => r.throughput),
});
const floors: Figures[] = [];
const depth0: Figures[] = [];
const depthN: Figures[] = [];
// Interleaved rounds, so drift hits the floor and our figures alike.
for (let round = 0; round < ROUNDS; round++) {
  floors.push(await floor());
  depth0.push(await ours(0));
  depthN.push(await ours(PIPELINE_DEPTH));
}
const f = collect(floors);
const o = collect(depth0);
const p = collect(depthN);
const rows: [string, number, number, number, string][] = [
  ['sequential echo p50 (µs)', f.latency.p50Us, o.latency.p50Us, p.latency.p50Us, '<= 1.5'],
  ['sequential echo p99 (µs)', f.latency.p99Us, o.latency.p99Us, p.latency.p99Us, ''],
  [`throughput, ${POOL_SIZE} workers, ${IN_FLIGHT} in flight (calls/s)`, f.throughput, o.throughput, p.throughput, '>= 0.6'],
];
const num = (v: number, width: number) => v.toFixed(v < 10 ? 2 : 0).padStart(width);
console.log(`\nsnakepit bench — pipe transport, Node ${process.version}, ${SEQUENTIAL_CALLS} sequential / ${THROUGHPUT_CALLS} concurrent calls\n`);
console.log(`${'measure'.padEnd(46)}${'floor'.padStart(10)}${'depth 0'.padStart(10)}${'ratio'.padStart(7)}${`depth ${PIPELINE_DEPTH}`.padStart(10)}${'ratio'.padStart(7)}  target`);
for (const [name, fl, d0, dp, target] of rows) {
  console.log(`${name.padEnd(46)}${num(fl, 10)}${num(d0, 10)}${num(d0 / fl, 7)}${num(dp, 10)}${num(dp / fl, 7)}  ${target}`);
}
console.log(`\nfloor: raw pipe + msgpack echo, no pool or bridge. depth = pool option pipelineDepth (default 0). Median of ${ROUNDS} interleaved rounds.`);
