/**
 * The bridge's call events that a compact result carried as its call's times (docs/protocol.md
 * "Compact frames"), rebuilt as Python would have sent them in a `telemetry` frame, so they are
 * checked, filtered and published like any other Python event.
 */
import type { WirePythonEvent } from '../../telemetry/python-events.js';
import type { OutgoingCall } from '../types.js';
import { CARRIES, type CompactCallTimes } from './frames.js';

/** The call's correlation id as Python read it: the caller's metadata `correlation_id` if there is one (Python keeps it), else the host's. */
function pythonCorrelation(call: OutgoingCall): unknown {
  const metadata = call.metadata;
  return metadata !== undefined && Object.hasOwn(metadata, 'correlation_id') ? metadata.correlation_id : call.correlationId;
}

/** `python.call.start` and/or `python.call.stop` of `call`, from the times its compact result carried. */
export function carriedCallEvents(call: OutgoingCall, times: CompactCallTimes): WirePythonEvent[] {
  const [, , , flags, systemTimeNs, durationNs] = times;
  const tool = call.tool;
  const correlation = (pythonCorrelation(call) ?? null) as string | null;
  const startS = Number(systemTimeNs) / 1e9;
  const events: WirePythonEvent[] = [];
  if (flags & CARRIES.start) {
    events.push({ name: 'snakepit.python.call.start', measurements: { count: 1, system_time: systemTimeNs }, metadata: { command: tool, tool }, correlation_id: correlation, ts: startS });
  }
  if (flags & CARRIES.stop) {
    events.push({
      name: 'snakepit.python.call.stop',
      measurements: { count: 1, duration: durationNs, duration_ms: durationNs / 1e6 },
      metadata: { command: tool, tool },
      correlation_id: correlation,
      ts: startS + durationNs / 1e9,
    });
  }
  return events;
}
