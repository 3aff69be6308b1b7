/**
 * What every bench section shares: the knobs (env, `--quick`), the targets (a raw floor, our stack,
 * the python-shell peer), rounds that alternate floor and us, and the report row.
 */
import path from 'node:path';
import { Snakepit, type SnakepitConfigInput } from '../../src/index.js';
import { packageRoot, resolvePythonExecutable } from '../../src/python/runtime.js';
import { PyShellEcho } from '../pyshell-peer.js';
import { RawEcho } from '../raw-floor.js';
import { RawGrpcEcho } from '../raw-grpc-floor.js';
import { measureLatency, measureThroughput } from '../stats.js';

export const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const knob = (name: string, full: number, fast: number) => Number(process.env[name] ?? (quick ? fast : full));

/** Every knob, from the env; `--quick` (or BENCH_QUICK=1) lowers the defaults to a ~30 s run. */
export const knobs = {
  latencyRounds: knob('BENCH_LATENCY_ROUNDS', 9, 3),
  latencyCalls: knob('BENCH_LATENCY_CALLS', 1_000, 300),
  throughputRounds: knob('BENCH_THROUGHPUT_ROUNDS', 5, 1),
  throughputCalls: knob('BENCH_THROUGHPUT_CALLS', 50_000, 5_000),
  streamRounds: knob('BENCH_STREAM_ROUNDS', 5, 2),
  streamChunks: knob('BENCH_STREAM_CHUNKS', 5_000, 1_000),
  largeRounds: knob('BENCH_LARGE_ROUNDS', 3, 1),
  coldRounds: knob('BENCH_COLD_ROUNDS', 5, 2),
  memoryRounds: knob('BENCH_MEMORY_ROUNDS', 3, 1),
  forkRounds: knob('BENCH_FORK_ROUNDS', 3, 1),
  warmup: knob('BENCH_WARMUP', 300, 100),
};
export const IN_FLIGHT = 16;
export const POOL_SIZE = 2;
export const PIPELINE_DEPTH = 8;

export const benchDir = path.join(packageRoot(), 'bench');
export const python = resolvePythonExecutable();

/** One report line: our figure beside its floor (or peer), the ratio, and the target when the issue sets one. */
export interface Row {
  section: string;
  measure: string;
  unit: string;
  /** What the figure is compared with: a floor ('raw pipe', 'import snakepit_bridge') or the peer ('python-shell'). */
  against: string;
  floor: number;
  value: number;
  /** value / floor. */
  ratio: number;
  /** e.g. '<= 1.3'; absent where the issue sets none. */
  target?: string;
  /** What the target bounds: the ratio (default) or our figure itself, in `unit`. */
  targetOn?: 'ratio' | 'value';
  met?: boolean;
}

/** A bench section: a module under bench/sections/, listed in bench/run.ts. */
export interface Section {
  id: string;
  title: string;
  run(): Promise<Row[]>;
}

export function row(
  section: string,
  measure: string,
  unit: string,
  against: string,
  floor: number,
  value: number,
  target?: `${'<=' | '>='} ${number}`,
  targetOn: 'ratio' | 'value' = 'ratio',
): Row {
  const ratio = value / floor;
  const r: Row = { section, measure, unit, against, floor, value, ratio };
  if (target !== undefined) {
    const [op, limit] = target.split(' ') as ['<=' | '>=', string];
    const bounded = targetOn === 'value' ? value : ratio;
    r.target = target;
    if (targetOn === 'value') r.targetOn = 'value';
    r.met = op === '<=' ? bounded <= Number(limit) : bounded >= Number(limit);
  }
  return r;
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

export interface Target {
  call: () => Promise<unknown>;
  close: () => Promise<void> | void;
}
export type Maker = () => Promise<Target> | Target;

export function rawTarget(processes: number, value: unknown = 'x'): Target {
  const echoes = Array.from({ length: processes }, () => new RawEcho(python, benchDir));
  let turn = 0;
  return { call: () => echoes[turn++ % processes]!.call(value), close: () => echoes.forEach((e) => e.close()) };
}

export async function rawGrpcTarget(processes: number, value: unknown = 'x'): Promise<Target> {
  const echoes = await Promise.all(Array.from({ length: processes }, () => RawGrpcEcho.start(python, benchDir)));
  let turn = 0;
  return { call: () => echoes[turn++ % processes]!.call(value), close: () => echoes.forEach((e) => e.close()) };
}

/** The peer: `processes` python-shell instances in JSON mode, calls spread round-robin. */
export function pyShellTarget(processes: number, value: unknown = 'x'): Target {
  const shells = Array.from({ length: processes }, () => new PyShellEcho(python, benchDir));
  let turn = 0;
  return { call: () => shells[turn++ % processes]!.call(value), close: () => shells.forEach((s) => s.close()) };
}

export function benchPool(extra: Partial<Record<string, unknown>> = {}): SnakepitConfigInput {
  return {
    logLevel: 'error',
    pools: [{ name: 'default', poolSize: POOL_SIZE, adapter: 'bench_adapter.BenchAdapter', pythonPath: [path.join(benchDir, 'python')], ...extra }],
  } as SnakepitConfigInput;
}

/**
 * Snakepit.start, tried up to 3 times: on this shared VM another test run's sweep or signal can
 * kill a worker in its handshake; the failed try is reported on stderr and not timed.
 */
export async function startPool(config: SnakepitConfigInput): Promise<Snakepit> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await Snakepit.start(config, { handleSignals: false });
    } catch (error) {
      if (attempt >= 3) throw error;
      process.stderr.write(`bench: start failed (${(error as Error).message}); retrying\n`);
    }
  }
}

export async function snakepitTarget(pipelineDepth: number | 'auto', transport: 'pipe' | 'grpc' = 'pipe', value: unknown = 'x'): Promise<Target> {
  const sp = await startPool(benchPool({ transport, pipelineDepth }));
  return { call: () => sp.execute('echo', { value }), close: () => sp.stop() };
}

/** Latency rounds of one target: p50/p99 and host CPU per call per round, medians at the end. */
function latencyRounds(make: Maker, calls: number, warmup: number) {
  const p50: number[] = [];
  const p99: number[] = [];
  const cpu: number[] = [];
  return {
    async round() {
      const target = await make();
      try {
        const l = await measureLatency(target.call, calls, warmup);
        p50.push(l.p50Us);
        p99.push(l.p99Us);
        cpu.push(l.cpuUsPerCall);
      } finally {
        await target.close();
      }
    },
    result: () => ({ p50Us: median(p50), p99Us: median(p99), cpuUsPerCall: median(cpu) }),
  };
}

/** Throughput rounds of one target: calls/s and host CPU µs per call (process.cpuUsage over the timed calls). */
function throughputRounds(make: Maker) {
  const rates: number[] = [];
  const cpu: number[] = [];
  return {
    async round() {
      const target = await make();
      try {
        await measureThroughput(target.call, knobs.warmup * 4, IN_FLIGHT);
        const before = process.cpuUsage();
        rates.push(await measureThroughput(target.call, knobs.throughputCalls, IN_FLIGHT));
        const used = process.cpuUsage(before);
        cpu.push((used.user + used.system) / knobs.throughputCalls);
      } finally {
        await target.close();
      }
    },
    result: () => ({ rate: median(rates), cpuUsPerCall: median(cpu) }),
  };
}

/** Runs the makers' rounds interleaved (floor, us, floor, us, ...) and returns each one's medians. */
export async function compareLatency(makers: Maker[], rounds = knobs.latencyRounds, calls = knobs.latencyCalls, warmup = knobs.warmup) {
  const runs = makers.map((make) => latencyRounds(make, calls, warmup));
  for (let i = 0; i < rounds; i++) for (const run of runs) await run.round();
  return runs.map((run) => run.result());
}

export async function compareThroughput(makers: Maker[], rounds = knobs.throughputRounds) {
  const runs = makers.map((make) => throughputRounds(make));
  for (let i = 0; i < rounds; i++) for (const run of runs) await run.round();
  return runs.map((run) => run.result());
}
