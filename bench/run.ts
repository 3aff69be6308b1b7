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
import { RawGrpcEcho } from './raw-grpc-floor.js';
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

function rawTarget(processes: number, value: unknown = 'x'): Target {
  const echoes = Array.from({ length: processes }, () => new RawEcho(python, benchDir));
  let turn = 0;
  return { call: () => echoes[turn++ % processes]!.call(value), close: () => echoes.forEach((e) => e.close()) };
}

async function rawGrpcTarget(processes: number, value: unknown = 'x'): Promise<Target> {
  const echoes = await Promise.all(Array.from({ length: processes }, () => RawGrpcEcho.start(python, benchDir)));
  let turn = 0;
  return { call: () => echoes[turn++ % processes]!.call(value), close: () => echoes.forEach((e) => e.close()) };
}

async function snakepitTarget(pipelineDepth: number, transport: 'pipe' | 'grpc' = 'pipe', value: unknown = 'x'): Promise<Target> {
  const sp = await Snakepit.start({
    logLevel: 'error',
    pools: [{ name: 'default', poolSize: POOL_SIZE, transport, pipelineDepth, adapter: 'bench_adapter.BenchAdapter', pythonPath: [path.join(benchDir, 'python')] }],
  });
  return { call: () => sp.execute('echo', { value }), close: () => sp.stop() };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function latencyRounds(make: () => Promise<Target> | Target, calls = LATENCY_CALLS, warmup = WARMUP) {
  const p50: number[] = [];
  const p99: number[] = [];
  return {
    async round() {
      const target = await make();
      try {
        const l = await measureLatency(target.call, calls, warmup);
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

/** Runs the makers' rounds interleaved and returns each one's median. */
async function compareLatency(makers: (() => Promise<Target> | Target)[], rounds: number) {
  const runs = await Promise.all(makers.map((make) => latencyRounds(make)));
  for (let i = 0; i < rounds; i++) for (const run of runs) await run.round();
  return runs.map((run) => run.result());
}

async function compareThroughput(makers: (() => Promise<Target> | Target)[], rounds: number) {
  const runs = await Promise.all(makers.map((make) => throughputRounds(make)));
  for (let i = 0; i < rounds; i++) for (const run of runs) await run.round();
  return runs.map((run) => run.result());
}

const num = (v: number) => v.toFixed(v < 10 ? 2 : 0);
function table(title: string, rows: [string, number, number, string][]): void {
  console.log(`\n${title}\n`);
  console.log(`${'measure'.padEnd(48)}${'floor'.padStart(10)}${'snakepit'.padStart(10)}${'ratio'.padStart(8)}  target`);
  for (const [name, floorValue, ours, target] of rows) {
    console.log(`${name.padEnd(48)}${num(floorValue).padStart(10)}${num(ours).padStart(10)}${(ours / floorValue).toFixed(2).padStart(8)}  ${target}`);
  }
}

const sections = new Set((process.env.BENCH_SECTIONS ?? 'pipe,grpc,large').split(','));
console.log(`snakepit bench — Node ${process.version}`);
console.log(`latency: median of ${LATENCY_ROUNDS} rounds × ${LATENCY_CALLS} calls; throughput: median of ${THROUGHPUT_ROUNDS} rounds × ${THROUGHPUT_CALLS} calls`);

if (sections.has('pipe')) {
  const [fl, ol] = await compareLatency([() => rawTarget(1), () => snakepitTarget(0)], LATENCY_ROUNDS);
  const [fr, or, opr] = await compareThroughput([() => rawTarget(POOL_SIZE), () => snakepitTarget(0), () => snakepitTarget(PIPELINE_DEPTH)], THROUGHPUT_ROUNDS);
  table('pipe transport (floor: raw pipe + msgpack echo, bench/python/raw_echo.py)', [
    ['sequential echo p50 (µs)', fl!.p50Us, ol!.p50Us, '<= 1.5'],
    ['sequential echo p99 (µs)', fl!.p99Us, ol!.p99Us, ''],
    [`throughput, ${POOL_SIZE} workers, ${IN_FLIGHT} in flight (calls/s)`, fr!, or!, '>= 0.6'],
    [`  same, pipelineDepth ${PIPELINE_DEPTH}`, fr!, opr!, '>= 0.6'],
  ]);
}

if (sections.has('grpc')) {
  const [fl, ol] = await compareLatency([() => rawGrpcTarget(1), () => snakepitTarget(0, 'grpc')], LATENCY_ROUNDS);
  const [fr, or] = await compareThroughput([() => rawGrpcTarget(POOL_SIZE), () => snakepitTarget(PIPELINE_DEPTH, 'grpc')], THROUGHPUT_ROUNDS);
  table('grpc transport (floor: raw grpc-js -> grpcio echo, bench/python/raw_grpc_echo.py)', [
    ['sequential echo p50 (µs)', fl!.p50Us, ol!.p50Us, '<= 1.2'],
    ['sequential echo p99 (µs)', fl!.p99Us, ol!.p99Us, ''],
    [`throughput, ${POOL_SIZE} workers, ${IN_FLIGHT} in flight, depth ${PIPELINE_DEPTH} (calls/s)`, fr!, or!, '>= 0.83'],
  ]);
}

if (sections.has('large')) {
  const big = Buffer.alloc(8 * 1024 * 1024, 7);
  const makers = [() => rawTarget(1, big), () => rawGrpcTarget(1, big), () => snakepitTarget(0, 'pipe', big), () => snakepitTarget(0, 'grpc', big)];
  const runs = await Promise.all(makers.map((make) => latencyRounds(make, 20, 3)));
  for (let i = 0; i < 3; i++) for (const run of runs) await run.round();
  const [fl, fgl, pl, gl] = runs.map((r) => r.result());
  table('8 MiB echo (floor: raw pipe + msgpack echo; second grpc row: raw grpc-js -> grpcio floor)', [
    ['pipe transport p50 (ms)', fl!.p50Us / 1000, pl!.p50Us / 1000, '<= 1.2'],
    ['grpc transport p50 (ms)', fl!.p50Us / 1000, gl!.p50Us / 1000, ''],
    ['grpc transport p50 vs raw grpc (ms)', fgl!.p50Us / 1000, gl!.p50Us / 1000, '<= 1.2'],
  ]);
}
