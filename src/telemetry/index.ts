/**
 * The `telemetry` namespace: attach handlers to the event catalog (and your own event names),
 * spans, control of Python's telemetry, metrics.
 * @example telemetry.attach('my-handler', ['snakepit.python.call.stop'], (event, measurements, metadata) => {});
 */
import { attach, attachMany, detach, emit, enabled, events, handlers, setTelemetryLogger } from './bus.js';
import { gpuProfiler } from './gpu-profiler.js';
import { metrics } from './metrics.js';
import { control } from './python-events.js';
import { endSpan, endSpanException, span, startSpan } from './span.js';
import { enableTracing, tracingEnabled } from './tracing.js';

export const telemetry = {
  attach,
  attachMany,
  detach,
  events,
  handlers,
  enabled,
  emit,
  /** Runs a function inside `<name>.start` / `.stop` / `.exception` events (the original's `Telemetry.Span`). */
  span,
  startSpan,
  endSpan,
  endSpanException,
  /** Python telemetry at runtime: sampling, filters, on/off per pool or worker, the worker streams (the original's `Telemetry.Control` and `GrpcStream`). */
  control,
  /** prom-client metrics (created on first use). */
  metrics,
  /** OpenTelemetry call spans (needs an SDK installed by the app to record anything). */
  tracing: { enable: enableTracing, enabled: tracingEnabled },
  setLogger: setTelemetryLogger,
  /** Periodic nvidia-smi samples as `snakepit.gpu.memory.sampled` and three more (off until `start()`). */
  gpuProfiler,
};

export type { TelemetryHandler, TelemetryMessage, AppEventName, PayloadOf } from './bus.js';
export type { SpanRef } from './span.js';
export type { TelemetryControl, ControlTarget, TelemetryStreamInfo, PatternSampling } from './python-events.js';
export type { SnakepitMetrics } from './metrics.js';
export type { GpuProfilerOptions, GpuSample, GpuProfilerStats } from './gpu-profiler.js';
export type { TelemetryEventMap, TelemetryEventName, HostEventMap, PythonEventName, Measurements, Metadata } from './catalog.js';
export { PYTHON_EVENTS, EVENT_NAMES } from './catalog.js';
export { PYTHON_MEASUREMENT_KEYS } from './python-catalog.js';
