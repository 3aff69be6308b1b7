/**
 * Python's events folded into the bus (the original's `Telemetry.GrpcStream`): a pipe `telemetry`
 * frame's batch, or a gRPC `StreamTelemetry` message. Only catalogued `snakepit.python.*` names
 * with allowlisted measurement keys are published; anything else is counted and dropped, so a
 * worker can never create channels. The runtime control of what Python sends is python-control.ts.
 */
import { emit, enabled, onSubscriptionChange, telemetryLogger } from './bus.js';
import { copyFields } from '../object-copy.js';
import type { PythonMeta } from './catalog.js';
import { pythonEventName, pythonMeasurements, type PythonEventName } from './python-catalog.js';
import { admit, configure, countDropped, poolOf, reset, setSampling, settled, streamsInfo, type ControlTarget } from './python-control.js';

export { registerWorker, type ControllableWorker, type TelemetryControl, type ControlTarget, type TelemetryStreamInfo, type PatternSampling } from './python-control.js';

/** One event as Python sends it (pipe `telemetry` frame item, or a decoded gRPC TelemetryEvent). */
export interface WirePythonEvent {
  name: string;
  measurements?: Record<string, unknown> | null;
  metadata?: Record<string, unknown> | null;
  correlation_id?: string | null;
  ts?: number;
}

let dropped = 0;

/** Python telemetry control: the original's `Telemetry.Control`, per pool or per worker. */
export const control = {
  configure,
  setSampling,
  /** Allow/deny lists of Python event names or glob patterns (`python.call.*`). */
  setFilter: (filter: { allow?: readonly string[] | null; deny?: readonly string[] }, target?: ControlTarget) => configure(filter, target),
  /** Python resource sampling (memory and CPU of each worker) every `intervalMs`; 0 stops it. */
  sampleResources: (intervalMs: number, target?: ControlTarget) => configure({ resourceIntervalMs: intervalMs }, target),
  /** Turns Python telemetry on or off. */
  toggle: (on: boolean, target?: ControlTarget) => configure({ enabled: on }, target),
  /** The running workers' streams: settings in force, events received and dropped. */
  streams: streamsInfo,
  /** Every scope back to the defaults. */
  reset,
  settled,
  /** Python events dropped as invalid (uncatalogued name, bad measurement) since start. */
  dropped: () => dropped,
};

function drop(workerId: string, name: string, reason: 'unknown_event' | 'unknown_measurement_key' | 'invalid_measurement', key?: string): void {
  dropped++;
  countDropped(workerId);
  if (enabled('snakepit.telemetry.dropped')) emit('snakepit.telemetry.dropped', { count: dropped }, { workerId, name, reason, ...(key === undefined ? {} : { key }) });
  telemetryLogger().debug(`Dropped Python event '${name}': ${reason}${key === undefined ? '' : ` (${key})`}`, { workerId });
}

/** The names of Python's own per-call events (see `TelemetryControl.callEvents`). */
const CALL_EVENTS = ['snakepit.python.call.start', 'snakepit.python.call.stop', 'snakepit.python.call.exception'] as const;
let callEventsOn = false;

/** Turns Python's own call events on while a handler listens to one of them, off when none does. */
function syncCallEvents(): void {
  const wanted = CALL_EVENTS.some((name) => enabled(name));
  if (wanted === callEventsOn) return;
  callEventsOn = wanted;
  configure({ callEvents: wanted });
}
onSubscriptionChange(syncCallEvents);

/** Publishes a batch from worker `workerId` (pool looked up when not given). */
export function foldPythonEvents(pool: string | undefined, workerId: string, events: readonly WirePythonEvent[]): void {
  for (const event of events) {
    const name: PythonEventName | undefined = typeof event.name === 'string' ? pythonEventName(event.name) : undefined;
    if (!name) {
      drop(workerId, String(event.name), 'unknown_event');
      continue;
    }
    const checked = pythonMeasurements(name, event.measurements);
    if (!checked.ok) {
      drop(workerId, name, checked.reason, checked.key);
      continue;
    }
    if (!admit(workerId, name) || !enabled(name)) continue;
    emit(name, checked.measurements, publishedMetadata(event, pool ?? poolOf(workerId) ?? 'unknown', workerId));
  }
}

/**
 * An event's metadata as published: Python's fields (its `correlation_id` moved to `correlationId`),
 * then `pool`, `workerId`, `correlationId` and `pythonTime`; built from a copy, not a spread (see
 * object-copy.ts: ~2 µs per event on Node 20).
 */
function publishedMetadata(event: WirePythonEvent, pool: string, workerId: string): PythonMeta {
  const metaCorrelation = event.metadata?.correlation_id;
  const out = copyFields(event.metadata, 'correlation_id');
  out.pool = pool;
  out.workerId = workerId;
  out.correlationId = event.correlation_id ?? (typeof metaCorrelation === 'string' ? metaCorrelation : undefined);
  if (event.ts !== undefined) out.pythonTime = event.ts;
  return out as PythonMeta;
}
