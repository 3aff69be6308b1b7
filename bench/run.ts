/**
 * `npm run bench`: our figures beside floors measured the same way in the same run, as ratios.
 * Floor = raw pipe + msgpack echo (no pool, no bridge). Targets for the pipe transport:
 * sequential p50 within 1.5x of the floor, throughput (pool of 2, 16 in flight) >= 0.6x.
 *
 * On this 2-vCPU VM a round trip is bimodal (~20 µs or ~80 µs, by where the scheduler puts the
 * two processes), so each figure is the median over many short rounds that alternate floor and us.
 */
import path from 'node:path';
import { Snakepit } from '../src/index.js';
import { packageRoot, resolvePythonExecutable } from '../src/python/runtime.js';
import { RawEcho } from './raw-floor.js';
import { measureLatency, measureThroughput } from './stats.js';

const LATENCY_ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 9);
const LATENCY_CALLS = Number(process.env.BENCH_LATENCY_CALLS ?? 1_000);
const THROUGHPUT_ROUNDS = Number(process.env.BENCH_THROUGHPUT_ROUNDS ?? 3);
const THROUGHPUT_CALLS = Number(process.env.BENCH_THROUGHPUT_CALLS ?? 50_000);
const WARMUP = 300;
const IN_FLIGHT = 16;
const POOL_SIZE = 2;
const PIPELINE_DEPTH = 8;

const benchDir = path.join(packageRoot(), 'bench');
const python = resolvePythonExecutable();

interface Target {
  call: () => Promise<unknown>;
  close: () => Promise<void> | void;
}

function rawTarget(processes: number): Target {
  const echoes = Array.from({ length: processes }, () => new RawEcho(python, benchDir));
  let turn = 0;
  return { call: () => echoes[turn++ % processes]!.call('x'), close: () => echoes.forEach((e) => e.close()) };
}

async function snakepitTarget(pipelineDepth: number): Promise<Target> {
  const sp = await Snakepit.start({
    logLevel: 'error',
    pools: [{ name: 'default', poolSize: POOL_SIZE, pipelineDepth, adapter: 'bench_adapter.BenchAdapter', pythonPath: [path.join(benchDir, 'python')] }],
  });
  return { call: () => sp.execute('echo', { value: 'x' }), close: () => sp.stop() };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function latencyRounds(make: () => Promise<Target> | Target) {
  const p50: number[] = [];
  const p99: number[] = [];
  return {
    async round() {
      const target = await make();
      try {
        const l = await measureLatency(target.call, LATENCY_CALLS, WARMUP);
        p50.push(l.p50Us);
        p99.push(l.p99Us);
      } finally {
        await target.close();
      }
    },
    result: () => ({ p50Us: median(p50), p99Us: median(p99) }),
  };
}

async function throughputRounds(make: () => Promise<Target> | Target) {
  const rates: number[] = [];
  return {
    async round() {
      const target = await make();
      try {
        await measureThroughput(target.call, WARMUP * 4, IN_FLIGHT);
        rates.push(await measureThroughput(target.call, THROUGHPUT_CALLS, IN_FLIGHT));
      } finally {
        await target.close();
      }
    },
    result: () => median(rates),
  };
}

const floorLatency = await latencyRounds(() => rawTarget(1));
const ourLatency = await latencyRounds(() => snakepitTarget(0));
for (let i = 0; i < LATENCY_ROUNDS; i++) {
  await floorLatency.round();
  await ourLatency.round();
}
const floorRate = await throughputRounds(() => rawTarget(POOL_SIZE));
const ourRate = await throughputRounds(() => snakepitTarget(0));
const ourPipelinedRate = await throughputRounds(() => snakepitTarget(PIPELINE_DEPTH));
for (let i = 0; i < THROUGHPUT_ROUNDS; i++) {
  await floorRate.round();
  await ourRate.round();
  await ourPipelinedRate.round();
}

const fl = floorLatency.result();
const ol = ourLatency.result();
const rows: [string, number, number, string][] = [
  ['sequential echo p50 (µs)', fl.p50Us, ol.p50Us, '<= 1.5'],
  ['sequential echo p99 (µs)', fl.p99Us, ol.p99Us, ''],
  [`throughput, ${POOL_SIZE} workers, ${IN_FLIGHT} in flight (calls/s)`, floorRate.result(), ourRate.result(), '>= 0.6'],
  [`  same, pipelineDepth ${PIPELINE_DEPTH}`, floorRate.result(), ourPipelinedRate.result(), '>= 0.6'],
];
const num = (v: number) => v.toFixed(v < 10 ? 2 : 0);
console.log(`\nsnakepit bench — pipe transport, Node ${process.version}`);
console.log(`latency: median of ${LATENCY_ROUNDS} rounds × ${LATENCY_CALLS} calls; throughput: median of ${THROUGHPUT_ROUNDS} rounds × ${THROUGHPUT_CALLS} calls\n`);
console.log(`${'measure'.padEnd(48)}${'floor'.padStart(10)}${'snakepit'.padStart(10)}${'ratio'.padStart(8)}  target`);
for (const [name, floorValue, ours, target] of rows) {
  console.log(`${name.padEnd(48)}${num(floorValue).padStart(10)}${num(ours).padStart(10)}${(ours / floorValue).toFixed(2).padStart(8)}  ${target}`);
}
console.log('\nfloor: raw pipe + msgpack echo (bench/python/raw_echo.py), no pool or bridge.');
