/** The worker's `DescribeResponse` (its handshake over gRPC) as the transport-neutral `ReadyInfo`. */
import { decode } from '../codec.js';
import type { PythonRuntimeWire, ReadyInfo, ToolSpec } from '../types.js';

interface ParameterMessage {
  name: string;
  type: string;
  required: boolean;
  default_value: Buffer;
  has_default: boolean;
}

/** `DescribeResponse` as proto-loader decodes it (`defaults: true`). */
export interface DescribeMessage {
  protocol: number;
  pid: number;
  adapter: string;
  tools: { name: string; description: string; parameters: ParameterMessage[]; supports_streaming: boolean; required_variables: string[]; types?: Buffer }[];
  python: string;
  concurrency: number;
  /** null from workers that predate the field (`defaults: true` gives null for messages). */
  runtime?: PythonRuntimeWire | null;
  dynamic_tools?: boolean;
  /** "" when the worker reports none (`SNAKEPIT_ZONE`), and from workers that predate the field. */
  zone?: string;
  /** Honours `window` and serves GrantCredit (false from workers that predate them). */
  stream_credit?: boolean;
}

/** The handshake's facts: tools with decoded defaults, the runtime and zone when reported. */
export function readyInfoFromDescribe(info: DescribeMessage): ReadyInfo {
  return {
    protocol: info.protocol,
    pid: info.pid,
    adapter: info.adapter,
    python: info.python,
    concurrency: info.concurrency,
    ...(info.runtime ? { runtime: { version: info.runtime.version, gil_enabled: info.runtime.gil_enabled, free_threading: info.runtime.free_threading } } : {}),
    ...(info.dynamic_tools ? { dynamic_tools: true } : {}),
    ...(info.zone ? { zone: info.zone } : {}),
    tools: info.tools.map(
      (t): ToolSpec => ({
        name: t.name,
        description: t.description,
        supports_streaming: t.supports_streaming,
        required_variables: t.required_variables,
        ...(t.types?.length ? { types: decode(t.types) as ToolSpec['types'] } : {}),
        parameters: t.parameters.map((p) => ({
          name: p.name,
          type: p.type,
          required: p.required,
          ...(p.has_default ? { default: decode(p.default_value) } : {}),
        })),
      }),
    ),
  };
}
