/** Python's telemetry over gRPC: `HostService.StreamTelemetry` messages folded into the bus. */
import { decode } from '../transport/codec.js';
import { foldPythonEvents } from './python-events.js';

/** One `TelemetryEvent` message as proto-loader gives it (maps are msgpack). */
export interface TelemetryEventMessage {
  event: string;
  measurements: Buffer;
  metadata: Buffer;
  worker_id: string;
  timestamp: number;
}

const map = (buf: Buffer): Record<string, unknown> => {
  if (buf.length === 0) return {};
  const value = decode(buf);
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
};

/**
 * Publishes one message (an undecodable one is dropped: telemetry never fails the stream).
 * `worker`: who sent it, known from its token; the message's own `worker_id` only without it.
 */
export function foldGrpcTelemetry(message: TelemetryEventMessage, worker?: { id: string; pool: string }): void {
  let measurements: Record<string, unknown>;
  let metadata: Record<string, unknown>;
  try {
    measurements = map(message.measurements);
    metadata = map(message.metadata);
  } catch {
    return;
  }
  foldPythonEvents(worker?.pool, worker?.id ?? message.worker_id, [{ name: message.event, measurements, metadata, ts: message.timestamp }]);
}
