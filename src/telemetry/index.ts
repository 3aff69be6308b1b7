/**
 * The `telemetry` namespace: attach handlers to the event catalog, list it, control Python's
 * sampling, read metrics.
 * @example telemetry.attach('my-handler', ['snakepit.python.call.stop'], (event, measurements, metadata) => {});
 */
import { attach, attachMany, detach, emit, enabled, events, handlers, setTelemetryLogger } from './bus.js';
import { control } from './python-events.js';

export const telemetry = { attach, attachMany, detach, events, handlers, enabled, emit, control, setLogger: setTelemetryLogger };

export type { TelemetryHandler, TelemetryMessage } from './bus.js';
export type { TelemetryControl } from './python-events.js';
export type { TelemetryEventMap, TelemetryEventName, HostEventMap, PythonEventName, Measurements, Metadata } from './catalog.js';
export { PYTHON_EVENTS, EVENT_NAMES } from './catalog.js';
