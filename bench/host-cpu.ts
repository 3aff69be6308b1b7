/**
 * CPU per call of the hot path, for profiling work: `npx tsx bench/host-cpu.ts` (or the built
 * `node dist/bench/host-cpu.js`, with `--cpu-prof` to see where the host's time goes).
 *
 * For each target (TARGETS, default `raw,pipe,pipe-deep,pipe-events`): N sequential calls, then
 * 4N calls 16 in flight; it prints host CPU µs per call (process.cpuUsage: user + system, all
 * threads), the workers' CPU µs per call (/proc, 10 ms ticks: use N >= 20000) and wall time.
 * CPU per call hardly moves with the machine's load, unlike latency on this shared 2-vCPU VM.
 * Targets: `raw` (bench/raw-floor.ts, 1 process sequential, 2 in flight), `pipe` (pool of 2,
 * pipelineDepth 0), `pipe-deep` (pipelineDepth 8), `pipe-events` (depth 0, one telemetry
 * subscriber on every event).
 */
import { telemetry } from '../src/index.js';
import { IN_FLIGHT, PIPELINE_DEPTH, POOL_SIZE, rawTarget, snakepitTarget, type Target } from './sections/common.js';
import { childrenCpuUs, syscallCounts } from './stats.js';

const calls = Number(process.env.N ?? 5_000);
const WARMUP = 500;

/** Runs `n` calls `inFlight` at a time; CPU and wall time per call. */
async function measure(target: Target, n: number, inFlight: number) {
  let next = 0;
  const lane = async () => {
    while (next < n) {
      next++;
      await target.call();
    }
  };
  const host = process.cpuUsage();
  const workers = childrenCpuUs();
  const sys = syscallCounts();
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, lane));
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(host);
  const sysAfter = syscallCounts();
  const per = (a: number, b: number) => ((a - b) / n).toFixed(2);
  const syscalls = `host r/w ${per(sysAfter.self.reads, sys.self.reads)}/${per(sysAfter.self.writes, sys.self.writes)}  workers r/w ${per(sysAfter.children.reads, sys.children.reads)}/${per(sysAfter.children.writes, sys.children.writes)}  sleeps host ${per(sysAfter.self.sleeps, sys.self.sleeps)} workers ${per(sysAfter.children.sleeps, sys.children.sleeps)} per call`;
  return { syscalls, hostUs: (used.user + used.system) / n, workersUs: (childrenCpuUs() - workers) / n, wallUs: (wallMs * 1000) / n, rate: n / (wallMs / 1000) };
}

const makers: Record<string, { make: (inFlight: number) => Promise<Target> | Target; events?: boolean }> = {
  raw: { make: (inFlight) => rawTarget(inFlight > 1 ? POOL_SIZE : 1) },
  pipe: { make: () => snakepitTarget(0) },
  'pipe-deep': { make: () => snakepitTarget(PIPELINE_DEPTH) },
  'pipe-auto': { make: () => snakepitTarget('auto') },
  'pipe-events': { make: () => snakepitTarget(0), events: true },
};

const f = (v: number) => v.toFixed(1).padStart(7);
for (const name of (process.env.TARGETS ?? 'raw,pipe,pipe-deep,pipe-events').split(',')) {
  const spec = makers[name];
  if (!spec) throw new Error(`unknown target ${name} (one of ${Object.keys(makers).join(', ')})`);
  const modes = [['sequential', 1, calls], [`${IN_FLIGHT} in flight`, IN_FLIGHT, calls * 4]] as const;
  // MODES=flight: only the calls in flight (e.g. while a system-wide profiler samples).
  for (const [label, inFlight, n] of modes.filter((m) => process.env.MODES !== 'flight' || m[1] > 1)) {
    const target = await spec.make(inFlight);
    if (spec.events) telemetry.attach('host-cpu', telemetry.events(), () => undefined);
    try {
      await measure(target, WARMUP, inFlight);
      const m = await measure(target, n, inFlight);
      console.log(`${name.padEnd(12)} ${label.padEnd(13)} host CPU µs/call${f(m.hostUs)}  workers CPU µs/call${f(m.workersUs)}  wall µs/call${f(m.wallUs)}  ${m.rate.toFixed(0)} calls/s  ${m.syscalls}`);
    } finally {
      if (spec.events) telemetry.detach('host-cpu');
      await target.close();
    }
  }
}
process.exit(0);
