/**
 * GPU profiler (the original's `Telemetry.GPUProfiler`): samples nvidia-smi every `intervalMs`
 * and emits one `snakepit.gpu.sampled` per GPU (memory used/total in MiB, utilisation %,
 * temperature °C, power W; a field nvidia-smi reports as `[N/A]` is left out). Nothing runs
 * until `start()`; without nvidia-smi (no NVIDIA GPU) `start()` resolves false and samples nothing.
 * @example await telemetry.gpuProfiler.start({ intervalMs: 10_000 }); … telemetry.gpuProfiler.stop();
 */
import { probe, type ProbeResult } from '../hardware/probe.js';
import { emit, telemetryLogger } from './bus.js';

const FIELDS = ['index', 'memory.used', 'memory.total', 'utilization.gpu', 'temperature.gpu', 'power.draw'] as const;
const KEYS = ['memoryUsedMb', 'memoryTotalMb', 'utilizationPercent', 'temperatureC', 'powerW'] as const;
const ARGS = [`--query-gpu=${FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

export interface GpuProfilerOptions {
  /** Time between samples. @default 5000 */
  intervalMs?: number;
  /** Limit on one nvidia-smi run. @default 5000 */
  timeoutMs?: number;
  /** Environment nvidia-smi runs with (its PATH finds it). @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** One GPU's reading. */
export interface GpuSample {
  device: number;
  measurements: Partial<Record<(typeof KEYS)[number], number>>;
}

/** Parses the CSV lines of one sample; unreadable lines are skipped. */
export function parseGpuSample(stdout: string): GpuSample[] {
  const samples: GpuSample[] = [];
  for (const line of stdout.split('\n')) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== FIELDS.length || !/^\d+$/.test(cells[0]!)) continue;
    const measurements: GpuSample['measurements'] = {};
    KEYS.forEach((key, i) => {
      const value = Number(cells[i + 1]);
      if (cells[i + 1] !== '' && Number.isFinite(value)) measurements[key] = value;
    });
    samples.push({ device: Number(cells[0]), measurements });
  }
  return samples;
}

let timer: NodeJS.Timeout | undefined;
let generation = 0;

async function sampleOnce(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ProbeResult> {
  const r = await probe('nvidia-smi', ARGS, env, timeoutMs);
  if (r.status === 'ok') for (const s of parseGpuSample(r.stdout)) emit('snakepit.gpu.sampled', s.measurements, { device: s.device });
  return r;
}

/** Starts sampling (restarts it with the new options if running); resolves false when there is no NVIDIA GPU. */
async function start(options: GpuProfilerOptions = {}): Promise<boolean> {
  stop();
  const mine = ++generation;
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const first = await sampleOnce(env, timeoutMs);
  if (first.status !== 'ok' || parseGpuSample(first.stdout).length === 0 || mine !== generation) return false;
  let busy = false;
  timer = setInterval(() => {
    if (busy) return;
    busy = true;
    sampleOnce(env, timeoutMs)
      .then((r) => {
        if (r.status === 'failed') telemetryLogger().warn(`GPU sample failed: ${r.detail}`);
      })
      .finally(() => (busy = false));
  }, options.intervalMs ?? 5_000);
  timer.unref();
  return true;
}

/** Stops sampling (a no-op when not running). */
function stop(): void {
  generation++;
  clearInterval(timer);
  timer = undefined;
}

export const gpuProfiler = { start, stop, running: (): boolean => timer !== undefined };
