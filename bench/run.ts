/**
 * `npm run bench`: our figures beside floors measured the same way in the same run, as ratios.
 * Floor = raw pipe + msgpack echo (no pool, no bridge). Targets for the pipe transport:
 * sequential p50 within 1.5x of the floor, throughput (pool of 2, 16 in flight) >= 0.6x.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Snakepit } from '../src/index.js';
import { packageRoot, resolvePythonExecutable } from '../src/python/runtime.js';
import { RawEcho } from './raw-floor.js';
import { measureLatency, measureThroughput } from './stats.js';

const SEQUENTIAL_CALLS = Number(process.env.BENCH_SEQUENTIAL ?? 5_000);
const THROUGHPUT_CALLS = Number(process.env.BENCH_THROUGHPUT ?? 40_000);
const WARMUP = 500;
const IN_FLIGHT = 16;
const POOL_SIZE = 2;

const benchDir = path.join(packageRoot(), 'bench');
void fileURLToPath;

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

async function ours() {
  const sp = await Snakepit.start(
    { logLevel: 'error', pools: [{ name: 'default', poolSize: POOL_SIZE, adapter: 'bench_adapter.BenchAdapter', pythonPath: [path.join(benchDir, 'python')] }] },
  );
  try {
    const latency = await measureLatency(() => sp.execute('echo', { value: 'x' }), SEQUENTIAL_CALLS, WARMUP);
    await measureThroughput(() => sp.execute('echo', { value: 'x' }), WARMUP, IN_FLIGHT);
    const throughput = await measureThroughput(() => sp.execute('echo', { value: 'x' }), THROUGHPUT_CALLS, IN_FLIGHT);
    return { latency, throughput };
  } finally {
    await sp.stop();
  }
}

const f = await floor();
const o = await ours();
const rows = [
  ['sequential echo p50 (µs)', f.latency.p50Us, o.latency.p50Us, o.latency.p50Us / f.latency.p50Us, '<= 1.5'],
  ['sequential echo p99 (µs)', f.latency.p99Us, o.latency.p99Us, o.latency.p99Us / f.latency.p99Us, ''],
  [`throughput, ${POOL_SIZE} workers, ${IN_FLIGHT} in flight (calls/s)`, f.throughput, o.throughput, o.throughput / f.throughput, '>= 0.6'],
] as const;
console.log(`\nsnakepit bench — pipe transport, Node ${process.version}\n`);
console.log(`${'measure'.padEnd(46)}${'floor'.padStart(12)}${'snakepit'.padStart(12)}${'ratio'.padStart(9)}  target`);
for (const [name, fl, us, ratio, target] of rows) {
  console.log(`${name.padEnd(46)}${fl.toFixed(0).padStart(12)}${us.toFixed(0).padStart(12)}${ratio.toFixed(2).padStart(9)}  ${target}`);
}
