/**
 * Python's host requests as gRPC messages, the same whether they arrive on the host's
 * `HostService` (dial-back) or on a worker's `HostStream`: message -> `HostRequest`, and host
 * tool specs -> `HostToolSpec` messages for `list` answers.
 */
import { decode, encode } from '../codec.js';
import type { HostRequest } from '../types.js';

/** `ExecuteHostToolRequest` as proto-loader decodes it. */
export interface HostToolCallMessage {
  call_id: number;
  tool_name: string;
  args: Buffer;
  timeout_ms: number;
}

/** `SessionStateRequest` as proto-loader decodes it. */
export interface SessionStateMessage {
  call_id: number;
  action: string;
  key: string;
  value: Buffer;
}

const STATE_ACTIONS = new Set(['get_all', 'set', 'delete', 'clear']);

/** The running call a request names; 0 (no call) -> undefined. */
export const callIdOf = (id: number | string): number | undefined => (Number(id) > 0 ? Number(id) : undefined);

/** A host tool call; throws when its arguments do not decode. */
export function callRequest(req: HostToolCallMessage): HostRequest {
  return {
    op: 'call',
    callId: callIdOf(req.call_id),
    tool: req.tool_name,
    args: req.args.length > 0 ? (decode(req.args) as Record<string, unknown>) : {},
    timeoutMs: req.timeout_ms || undefined,
  };
}

/** A session state request; undefined for an unknown action; throws when the value does not decode. */
export function stateRequest(req: SessionStateMessage): HostRequest | undefined {
  if (!STATE_ACTIONS.has(req.action)) return undefined;
  return { op: 'state', callId: callIdOf(req.call_id), action: req.action as 'get_all', key: req.key, value: req.value.length > 0 ? decode(req.value) : null };
}

/** A host tool's spec as the `list` request answers it. */
export interface HostToolWireSpec {
  name: string;
  description: string;
  parameters: { name: string; type: string; required: boolean; description?: string; default?: unknown }[];
}

/** The `HostToolSpec` message of one spec. */
export function toSpecMessage(spec: HostToolWireSpec) {
  return {
    name: spec.name,
    description: spec.description,
    parameters: spec.parameters.map((p) => ({
      name: p.name,
      type: p.type,
      required: p.required,
      description: p.description ?? '',
      has_default: p.default !== undefined,
      default_value: p.default === undefined ? Buffer.alloc(0) : encode(p.default),
    })),
  };
}
