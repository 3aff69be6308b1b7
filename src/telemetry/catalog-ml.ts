/**
 * The original's `Telemetry.Events` catalogue (ML and resilience events), camelCased: a call's ML
 * and Python errors, the GPU profiler, hardware detection, circuit breakers and retries.
 */
import { RESILIENCE_EVENTS, type ResilienceEventMap } from '../resilience/events.js';
import type { Ev, None } from './catalog.js';

/** Every error event carries the failed call's context. */
export type ErrorMeta = {
  pool: string;
  tool: string;
  workerId: string | undefined;
  correlationId: string | undefined;
  /** The error's `code` (`shape_mismatch`, `out_of_memory`, `python_error`, …). */
  code: string;
};

/** A GPU as the profiler reports it: nvidia-smi's index. */
type GpuMeta = { device: number };

/** The resilience toolkit's circuit breaker and retry events, as the bus names them (their shapes are defined in resilience/events.ts). */
export type ResilienceBusEventMap = { [K in Exclude<keyof ResilienceEventMap, 'worker.crash'> as `snakepit.${K}`]: ResilienceEventMap[K] };

/** Events of the original's `exception_events`, `gpu_profiler_events` and `hardware_events` (circuit breaker and retry ones: `ResilienceBusEventMap`). */
export interface MlEventMap extends ResilienceBusEventMap {
  /** A call failed with a `ShapeMismatchError` (same rank, different sizes). */
  'snakepit.error.shape_mismatch': Ev<None, ErrorMeta & { expected?: number[]; got?: number[]; dimension?: number; operation?: string }>;
  /** A call failed with a `ShapeMismatchError` whose shapes differ in rank (number of dimensions). */
  'snakepit.error.dimension_error': Ev<None, ErrorMeta & { expectedDims: number; gotDims: number; operation?: string }>;
  /** A call failed with a `DeviceMismatchError` (`actualDevice` undefined: the device is not there). */
  'snakepit.error.device': Ev<None, ErrorMeta & { expectedDevice?: string; actualDevice?: string; operation?: string }>;
  /** A call failed with an `OutOfMemoryError`; the byte counts when the message said. */
  'snakepit.error.oom': Ev<Partial<{ requestedBytes: number; availableBytes: number }>, ErrorMeta & { device: string; operation?: string }>;
  'snakepit.error.dtype_mismatch': Ev<None, ErrorMeta & { expected?: string; got?: string; operation?: string }>;
  /** A call failed with any other exception its tool raised (`type` is the Python class name). */
  'snakepit.error.python_exception': Ev<None, ErrorMeta & { type: string; message: string; traceback: string }>;
  /** A Python exception became a class of its own (`PythonValueError`, …; the original's runtime event). */
  'snakepit.python.exception.mapped': Ev<None, ErrorMeta & { pythonType: string }>;
  /** A Python exception type with no class of ours (a plain `PythonError`). */
  'snakepit.python.exception.unmapped': Ev<None, ErrorMeta & { pythonType: string }>;

  /** `telemetry.gpuProfiler`: memory of one GPU, in MiB; `utilization` is the share used (0..1). */
  'snakepit.gpu.memory.sampled': Ev<Partial<{ usedMb: number; totalMb: number; freeMb: number }>, GpuMeta & { utilization?: number }>;
  'snakepit.gpu.utilization.sampled': Ev<Partial<{ gpuPercent: number; memoryPercent: number }>, GpuMeta>;
  'snakepit.gpu.temperature.sampled': Ev<{ celsius: number }, GpuMeta>;
  'snakepit.gpu.power.sampled': Ev<Partial<{ watts: number; limitWatts: number }>, GpuMeta>;

  /** `Hardware.detect()` ran its probes (a cached answer emits `cache.hit` instead). */
  'snakepit.hardware.detect.start': Ev<{ systemTime: number }, None>;
  'snakepit.hardware.detect.stop': Ev<{ durationMs: number }, { accelerator: string; platform: string }>;
  'snakepit.hardware.select.start': Ev<{ systemTime: number }, { preference: unknown }>;
  /** `device` is what was chosen (undefined when nothing fit); `success` says whether anything did. */
  'snakepit.hardware.select.stop': Ev<{ durationMs: number }, { device: string | undefined; success: boolean }>;
  'snakepit.hardware.cache.hit': Ev<None, { key: 'detect' }>;
  'snakepit.hardware.cache.miss': Ev<None, { key: 'detect' }>;
}

/** The names, checked complete against the map by the compiler. */
const ML_EVENT_KEYS = {
  'snakepit.error.shape_mismatch': true,
  'snakepit.error.dimension_error': true,
  'snakepit.error.device': true,
  'snakepit.error.oom': true,
  'snakepit.error.dtype_mismatch': true,
  'snakepit.error.python_exception': true,
  'snakepit.python.exception.mapped': true,
  'snakepit.python.exception.unmapped': true,
  'snakepit.gpu.memory.sampled': true,
  'snakepit.gpu.utilization.sampled': true,
  'snakepit.gpu.temperature.sampled': true,
  'snakepit.gpu.power.sampled': true,
  'snakepit.hardware.detect.start': true,
  'snakepit.hardware.detect.stop': true,
  'snakepit.hardware.select.start': true,
  'snakepit.hardware.select.stop': true,
  'snakepit.hardware.cache.hit': true,
  'snakepit.hardware.cache.miss': true,
} as const satisfies Record<Exclude<keyof MlEventMap, keyof ResilienceBusEventMap>, true>;

/** The ML events, then the resilience ones (`snakepit.worker.crash` is a host event). */
export const ML_EVENTS = [
  ...(Object.keys(ML_EVENT_KEYS) as (keyof MlEventMap)[]),
  ...RESILIENCE_EVENTS.filter((name) => name !== 'worker.crash').map((name) => `snakepit.${name}` as keyof ResilienceBusEventMap),
];
