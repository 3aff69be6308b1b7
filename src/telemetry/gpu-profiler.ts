/**
 * GPU profiler (the original's `Telemetry.GPUProfiler`): samples nvidia-smi every `intervalMs`
 * and emits the original's four events per GPU: `snakepit.gpu.memory.sampled` (used, total and
 * free MiB), `.utilization.sampled` (GPU and memory-controller %), `.temperature.sampled` (°C) and
 * `.power.sampled` (draw and limit, W); a field nvidia-smi reports as `[N/A]` is left out. Nothing
 * runs until `start()`; without nvidia-smi (no NVIDIA GPU) `start()` resolves false and samples nothing.
 * @example await telemetry.gpuProfiler.start({ intervalMs: 10_000 }); … telemetry.gpuProfiler.stop();
 */
import { HardwareError } from '../errors.js';
import { probe, type ProbeResult } from '../hardware/probe.js';
import { positiveInt } from '../resilience/validate.js';
import { emit, enabled, telemetryLogger } from './bus.js';

const FIELDS = ['index', 'memory.used', 'memory.total', 'memory.free', 'utilization.gpu', 'utilization.memory', 'temperature.gpu', 'power.draw', 'power.limit'] as const;
const ARGS = [`--query-gpu=${FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

/** Sampling interval the profiler starts with. @default 5000 */
export const DEFAULT_GPU_INTERVAL_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 5_000;

export interface GpuProfilerOptions {
  /** Time between samples, in ms (an integer >= 1). @default 5000 */
  intervalMs?: number;
  /** Limit on one nvidia-smi run, in ms. @default 5000 */
  timeoutMs?: number;
  /** Environment nvidia-smi runs with (its PATH finds it). @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** One GPU's reading (what nvidia-smi reported as N/A is left out). */
export interface GpuSample {
  device: number;
  memory: Partial<{ usedMb: number; totalMb: number; freeMb: number }>;
  utilization: Partial<{ gpuPercent: number; memoryPercent: number }>;
  temperature: Partial<{ celsius: number }>;
  power: Partial<{ watts: number; limitWatts: number }>;
}

/** What `stats()` reports (the original's `get_stats`). */
export interface GpuProfilerStats {
  running: boolean;
  intervalMs: number;
  /** Samples taken since the process started (one per nvidia-smi run that answered). */
  sampleCount: number;
  /** Epoch ms of the last sample, or null. */
  lastSampleAt: number | null;
  /** GPU indexes seen in the last sample. */
  devices: number[];
}

/** Parses the CSV lines of one sample; unreadable lines are skipped. */
export function parseGpuSample(stdout: string): GpuSample[] {
  const samples: GpuSample[] = [];
  for (const line of stdout.split('\n')) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== FIELDS.length || !/^\d+$/.test(cells[0]!)) continue;
    const n = (i: number): number | undefined => {
      const value = Number(cells[i]);
      return cells[i] !== '' && Number.isFinite(value) ? value : undefined;
    };
    samples.push({
      device: Number(cells[0]),
      memory: defined({ usedMb: n(1), totalMb: n(2), freeMb: n(3) }),
      utilization: defined({ gpuPercent: n(4), memoryPercent: n(5) }),
      temperature: defined({ celsius: n(6) }),
      power: defined({ watts: n(7), limitWatts: n(8) }),
    });
  }
  return samples;
}

function defined<T extends Record<string, number | undefined>>(values: T): Partial<{ [K in keyof T]: number }> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<{ [K in keyof T]: number }>;
}

function publish(s: GpuSample): void {
  const device = s.device;
  if (enabled('snakepit.gpu.memory.sampled')) {
    const { usedMb, totalMb } = s.memory;
    const utilization = usedMb !== undefined && totalMb ? usedMb / totalMb : undefined;
    emit('snakepit.gpu.memory.sampled', s.memory, utilization === undefined ? { device } : { device, utilization });
  }
  if (Object.keys(s.utilization).length > 0) emit('snakepit.gpu.utilization.sampled', s.utilization, { device });
  if (s.temperature.celsius !== undefined) emit('snakepit.gpu.temperature.sampled', { celsius: s.temperature.celsius }, { device });
  if (Object.keys(s.power).length > 0) emit('snakepit.gpu.power.sampled', s.power, { device });
}

const state = {
  timer: undefined as NodeJS.Timeout | undefined,
  generation: 0,
  intervalMs: DEFAULT_GPU_INTERVAL_MS,
  timeoutMs: DEFAULT_TIMEOUT_MS,
  env: process.env as NodeJS.ProcessEnv,
  sampleCount: 0,
  lastSampleAt: null as number | null,
  devices: [] as number[],
};

async function sampleOnce(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ probe: ProbeResult; samples: GpuSample[] }> {
  const r = await probe('nvidia-smi', ARGS, env, timeoutMs);
  const samples = r.status === 'ok' ? parseGpuSample(r.stdout) : [];
  if (samples.length > 0) {
    state.sampleCount++;
    state.lastSampleAt = Date.now();
    state.devices = samples.map((s) => s.device);
    for (const s of samples) publish(s);
  }
  return { probe: r, samples };
}

function schedule(mine: number): void {
  let busy = false;
  state.timer = setInterval(() => {
    if (busy) return;
    busy = true;
    sampleOnce(state.env, state.timeoutMs)
      .then(({ probe: r }) => {
        if (r.status === 'failed' && mine === state.generation) telemetryLogger().warn(`GPU sample failed: ${r.detail}`);
      })
      .finally(() => (busy = false));
  }, state.intervalMs);
  state.timer.unref();
}

/** Starts sampling (restarts it with the new options if running); resolves false when there is no NVIDIA GPU. */
async function start(options: GpuProfilerOptions = {}): Promise<boolean> {
  const intervalMs = positiveInt('intervalMs', options.intervalMs ?? state.intervalMs);
  const timeoutMs = positiveInt('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  stop();
  const mine = state.generation;
  Object.assign(state, { intervalMs, timeoutMs, env: options.env ?? process.env });
  const first = await sampleOnce(state.env, timeoutMs);
  if (first.samples.length === 0 || mine !== state.generation) return false;
  schedule(mine);
  return true;
}

/** Stops sampling (a no-op when not running). */
function stop(): void {
  state.generation++;
  clearInterval(state.timer);
  state.timer = undefined;
}

/**
 * Takes one sample now and emits its events (the original's `sample_now`), running or not; with
 * the running profiler's environment unless `options` say otherwise. Rejects with `HardwareError`
 * (`device_not_available`) when nvidia-smi is missing or fails.
 */
async function sampleNow(options: Omit<GpuProfilerOptions, 'intervalMs'> = {}): Promise<GpuSample[]> {
  const timeoutMs = positiveInt('timeoutMs', options.timeoutMs ?? state.timeoutMs);
  const { probe: r, samples } = await sampleOnce(options.env ?? state.env, timeoutMs);
  if (samples.length === 0) {
    const detail = r.status === 'missing' ? 'nvidia-smi is not installed' : r.status === 'failed' ? r.detail : 'nvidia-smi listed no GPU';
    throw new HardwareError(`No NVIDIA GPU to sample: ${detail}`, 'device_not_available', { device: 'cuda', detail });
  }
  return samples;
}

/** Changes the interval (an integer >= 1 ms; else `invalid_argument`); a running profiler goes on at the new pace. */
function setIntervalMs(intervalMs: number): void {
  state.intervalMs = positiveInt('intervalMs', intervalMs);
  if (!state.timer) return;
  clearInterval(state.timer);
  schedule(state.generation);
}

/** Whether it is sampling, how often, and what it saw. */
function stats(): GpuProfilerStats {
  return { running: state.timer !== undefined, intervalMs: state.intervalMs, sampleCount: state.sampleCount, lastSampleAt: state.lastSampleAt, devices: [...state.devices] };
}

export const gpuProfiler = { start, stop, sampleNow, setInterval: setIntervalMs, stats, running: (): boolean => state.timer !== undefined };
