/**
 * `node dist/bench/load.js` (after `npm run build`): the steady-state throughput driver behind the
 * "where the time goes" sections of guides/benchmarks.md. Not part of `npm run bench`: it explains figures, it sets
 * no target.
 *
 * Each round runs every target (LOAD_TARGETS, default `ours,pyshell,raw`) in a fresh Node process, one after the
 * other, so each starts cold and a second pool's warm-up never counts: 16 lanes of `await call()` on 2 processes
 * (ours: a default-config pool of 2), LOAD_WARMUP (20000) untimed calls, then LOAD_CALLS (100000) timed ones. Per run
 * it prints calls/s and, from `/proc/<pid>/schedstat`, the host main thread's time on a CPU and waiting for one, and
 * each worker's, in µs per call. At the end: the median of each column over LOAD_ROUNDS (8) rounds.
 * LOAD_TELEMETRY=all attaches one handler on every telemetry event first (`host`: every event but Python's own
 * `python.call.*`, which a handler on them turns on in the workers).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { telemetry } from '../src/index.js';
import { benchPool, IN_FLIGHT, median, pyShellTarget, rawTarget, startPool, type Target } from './sections/common.js';
import { childPids, measureThroughput } from './stats.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

interface Run {
  target: string;
  rate: number;
  hostRunUs: number;
  hostWaitUs: number;
  /** Per worker, µs per call (of all calls, not only the ones it ran). */
  workerRunUs: number[];
  workerWaitUs: number[];
}

/** `[time on a CPU, time waiting for one]` in ns, of `pid` ('self': this process's main thread). */
const schedstat = (pid: string): [number, number] => {
  const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
  return [run!, wait!];
};

/** One target in this process: warm up, then the timed calls; the result as one JSON line. */
async function one(name: string): Promise<Run> {
  let target: Target;
  if (name === 'ours') {
    const sp = await startPool(benchPool());
    target = { call: () => sp.execute('echo', { value: 'x' }), close: () => sp.stop() };
  } else if (name === 'pyshell') target = pyShellTarget(2);
  else if (name === 'raw') target = rawTarget(2);
  else throw new Error(`unknown target ${name} (ours, pyshell or raw)`);
  const calls = env('LOAD_CALLS', 100_000);
  const observe = process.env.LOAD_TELEMETRY;
  if (observe === 'all' || observe === 'host') {
    const names = telemetry.events().filter((name) => observe === 'all' || !name.startsWith('snakepit.python.call.'));
    telemetry.attach('bench-load', names, () => undefined);
  } else if (observe !== undefined) throw new Error(`LOAD_TELEMETRY is 'all' or 'host', not '${observe}'`);
  try {
    await measureThroughput(target.call, env('LOAD_WARMUP', 20_000), IN_FLIGHT);
    const workers = childPids();
    const host0 = schedstat('self');
    const workers0 = workers.map(schedstat);
    const rate = await measureThroughput(target.call, calls, IN_FLIGHT);
    const host1 = schedstat('self');
    const perCall = (after: number, before: number) => (after - before) / 1000 / calls;
    const workers1 = workers.map(schedstat);
    return {
      target: name,
      rate,
      hostRunUs: perCall(host1[0], host0[0]),
      hostWaitUs: perCall(host1[1], host0[1]),
      workerRunUs: workers1.map((w, i) => perCall(w[0], workers0[i]![0])),
      workerWaitUs: workers1.map((w, i) => perCall(w[1], workers0[i]![1])),
    };
  } finally {
    await target.close();
  }
}

const f = (v: number) => v.toFixed(2);
const line = (r: Run) =>
  `${r.target.padEnd(8)} ${(r.rate / 1000).toFixed(1).padStart(6)}k calls/s  host on CPU ${f(r.hostRunUs)} waiting ${f(r.hostWaitUs)}  ` +
  `workers on CPU ${r.workerRunUs.map(f).join('/')} waiting ${r.workerWaitUs.map(f).join('/')} µs/call`;

if (process.argv[2] === '--one') {
  process.stdout.write(`${JSON.stringify(await one(process.argv[3]!))}\n`);
  process.exit(0);
}

const targets = (process.env.LOAD_TARGETS ?? 'ours,pyshell,raw').split(',');
const runs: Record<string, Run[]> = Object.fromEntries(targets.map((t) => [t, []]));
const rounds = env('LOAD_ROUNDS', 8);
for (let round = 1; round <= rounds; round++) {
  for (const target of targets) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', target], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.status !== 0) throw new Error(`load: the ${target} run exited with ${child.status ?? child.signal}`);
    const run = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Run;
    runs[target]!.push(run);
    console.log(`round ${round}  ${line(run)}`);
  }
}
console.log(`\nmedians of ${rounds} rounds`);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
for (const target of targets) {
  const r = runs[target]!;
  const rates = r.map((x) => x.rate);
  console.log(
    `${line({
      target,
      rate: median(rates),
      hostRunUs: median(r.map((x) => x.hostRunUs)),
      hostWaitUs: median(r.map((x) => x.hostWaitUs)),
      workerRunUs: [median(r.map((x) => sum(x.workerRunUs) / x.workerRunUs.length))],
      workerWaitUs: [median(r.map((x) => sum(x.workerWaitUs) / x.workerWaitUs.length))],
    })}  (rates ${(Math.min(...rates) / 1000).toFixed(1)}k-${(Math.max(...rates) / 1000).toFixed(1)}k; workers: mean of the two)`,
  );
}
