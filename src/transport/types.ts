/** The transport seam: the only thing a Worker uses to talk to its Python process. */
import type { HandshakeToolTypes } from '../typed/type-spec.js';
import type { TelemetryControl } from '../telemetry/python-events.js';
import type { StreamFlow } from './stream-flow.js';

/** A Python tool as the worker describes it in its handshake. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: { name: string; type: string; required: boolean; default?: unknown }[];
  supports_streaming: boolean;
  required_variables: string[];
  /** Parameter types, sent by workers of pools with `validateArgs` (`SNAKEPIT_TOOL_TYPES=1`). */
  types?: HandshakeToolTypes;
}

/** What the worker reports once it can take calls. */
export interface ReadyInfo {
  protocol: number;
  pid: number;
  adapter: string;
  tools: ToolSpec[];
  python: string;
  concurrency: number;
  /** The adapter routes tool names itself (`execute_tool`): names beyond `tools` may exist. */
  dynamic_tools?: boolean;
  /** gRPC workers: the address their BridgeService listens on. */
  address?: string;
  /** The worker's interpreter and its threading (absent from workers that predate it). */
  runtime?: PythonRuntimeWire;
  /** Where a remote worker runs (its `SNAKEPIT_ZONE`: a zone or node name), when it reports one. */
  zone?: string;
}

/** What a worker reports about its interpreter (wire names; see `src/python/profile-advice.ts`). */
export interface PythonRuntimeWire {
  /** `platform.python_version()`, e.g. `'3.13.1'`. */
  version: string;
  /** Whether the GIL is on (always true before Python 3.13). */
  gil_enabled: boolean;
  /** A free-threaded build (`python3.13t`), whether or not the GIL is on now. */
  free_threading: boolean;
}

/**
 * One call as a worker's transport sends it: what to send and where its chunks go. The pool's
 * task is one (no object is built per call). The transport reports the call's end once, through
 * {@link TransportEvents.ended}.
 */
export interface OutgoingCall {
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly sessionId: string | undefined;
  readonly metadata: Record<string, unknown> | undefined;
  /** Sent as `x-snakepit-correlation-id` where the transport has headers. */
  readonly correlationId: string | undefined;
  /** When `correlationId` was made by `correlation-id.ts`: its number (the pipe writes it without reading the string); else 0 or absent. */
  readonly correlationSeq?: number;
  /** A streaming call: chunks go to `chunk()`. */
  readonly streaming: boolean;
  /** The consumer's buffer level, for flow control (`sp.stream()` only). */
  readonly flow: StreamFlow | undefined;
  /** A transport-level deadline for this attempt (the pool's own timeout fires first). */
  readonly deadlineMs: number | undefined;
  /** The session's state, sent with its first call on a worker new to it (`on_session_restore`). */
  readonly restore: Record<string, unknown> | undefined;
  /** One streamed item, as Python yielded it; `metadata`: the chunk object's `.metadata` map, when it has one. */
  chunk(data: unknown, final: boolean, metadata?: Record<string, unknown>): void;
  /** Set for a batch (`sp.map`): its inputs are sent instead of `args`. */
  readonly batch?: BatchCall | undefined;
}

/**
 * A batch (`sp.map`): many inputs of one tool sent as one call, which Python runs back to back.
 * The transport sends `inputs()` instead of `args` and hands each group of results to `results()`,
 * in input order; the call then ends as usual (`ended`), ok once every input has a result.
 */
export interface BatchCall {
  /** The argument maps to send with this attempt, in order (after a crash, only those still without a result). */
  inputs(): readonly Record<string, unknown>[];
  /** The first failing input ends the batch (the inputs after it do not run). */
  readonly failFast: boolean;
  /** The next results: `values[i]`, or, for an input that failed, its error in `errors` (`[i, error]`). */
  results(values: readonly unknown[], errors: readonly (readonly [number, Error])[] | undefined): void;
}

/** What a transport tells its worker: one event per call, as it ends. */
export interface TransportEvents {
  /**
   * Call `id` ended: `ok` with the tool's value (unary) or `undefined` after the last chunk
   * (stream), else with the error. Once per call, never synchronously inside `call()`.
   */
  ended(id: number, ok: boolean, outcome: unknown): void;
  /** Call `id` was taken back before it started (`recall`): it is gone from the worker and will never end there. */
  returned(id: number): void;
  /** Call `id`'s recall came too late: it had started (or the worker could not say) and runs on there. */
  kept(id: number): void;
}

/** A request from Python to the host (docs/protocol.md, "Calls from Python to the host"). */
export type HostRequest =
  | { op: 'call'; callId: number | undefined; tool: string; args: Record<string, unknown>; timeoutMs: number | undefined }
  | { op: 'list'; callId: number | undefined }
  | { op: 'state'; callId: number | undefined; action: 'get_all' | 'set' | 'delete' | 'clear'; key?: string | undefined; value?: unknown };

/** Answers Python's host requests: resolves with the reply value, rejects with the error to send back. */
export type HostRequestHandler = (request: HostRequest) => Promise<unknown>;

/** The error map Python sends in `error` and `fatal` frames. */
export interface WireError {
  type: string;
  message: string;
  traceback: string;
  code?: string;
  details?: Record<string, unknown>;
}

/**
 * The connection to one Python worker, shaped by what its `Worker` calls. Two implementations:
 * `PipeTransport` (fds 3/4) and `GrpcTransport`; `connectTransport` (worker/connect.ts) picks.
 */
export interface Transport {
  /** Resolves with the worker's description once it can take calls; rejects on `fatal`, failure or close. */
  readonly ready: Promise<ReadyInfo>;
  /** Sends a call and returns its wire id; its end comes through `TransportEvents.ended`. */
  call(call: OutgoingCall): number;
  /** Asks Python to cancel call `id` (cooperative; the call still ends through `ended`). */
  cancel(id: number): void;
  /** Asks for call `id` back if it has not started: `returned` follows if it had not, else it runs on. */
  recall(id: number): void;
  /** Round trip to the worker's control thread; rejects after `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  /** Runs the adapter's `cleanup_session(session_id)` hook, if any (a session ended). */
  cleanupSession(sessionId: string): Promise<void>;
  /** New telemetry settings for Python; resolves once they apply (pipe: at once, frames keep their order). */
  configureTelemetry(control: TelemetryControl): Promise<unknown>;
  /** The host is stopping this worker: the connection's end is no loss. */
  stopping(): void;
  /** Ends every call in flight and the handshake with `error`; later calls end with it at once. */
  fail(error: Error): void;
  /**
   * The worker's process exited: resolves once the connection has delivered what the worker sent before it
   * went (it closed), or after `timeoutMs`. Absent where the process's own exit already waits for that (the pipe).
   */
  drained?(timeoutMs: number): Promise<void>;
}
