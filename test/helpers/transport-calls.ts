// Calls through a bare transport, as promises: the transport reports each call's end as one event.
import type { OutgoingCall, Transport, TransportEvents } from '../../src/transport/types.js';

/** An OutgoingCall with defaults: unary, no session, no flow. */
export function outgoingCall(fields: Partial<OutgoingCall> & Pick<OutgoingCall, 'tool' | 'args'>): OutgoingCall {
  return {
    sessionId: undefined,
    metadata: undefined,
    correlationId: undefined,
    streaming: false,
    flow: undefined,
    deadlineMs: undefined,
    restore: undefined,
    chunk: () => {},
    ...fields,
  };
}

/** The events a transport reports to, and `call()` turning a sent call into a promise of its outcome. */
export function transportCalls(): { events: TransportEvents; call(transport: Pick<Transport, 'call'>, call: OutgoingCall): Promise<unknown>; returned: number[]; kept: number[] } {
  const returned: number[] = [];
  const kept: number[] = [];
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  return {
    events: {
      ended(id, ok, outcome) {
        const w = waiting.get(id);
        waiting.delete(id);
        if (ok) w?.resolve(outcome);
        else w?.reject(outcome);
      },
      returned(id) {
        returned.push(id);
      },
      kept(id) {
        kept.push(id);
      },
    },
    returned,
    kept,
    call(transport, call) {
      return new Promise((resolve, reject) => waiting.set(transport.call(call), { resolve, reject }));
    },
  };
}
