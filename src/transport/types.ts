/** The transport seam: the only thing a Worker uses to talk to its Python process. */
import type { HandshakeToolTypes } from '../typed/type-spec.js';
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
  /** gRPC workers: the address their BridgeService listens on. */
  address?: string;
  /** The worker's interpreter and its threading (absent from workers that predate it). */
  runtime?: PythonRuntimeWire;
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

/** One tool call as it goes on the wire. */
export interface CallRequest {
  tool: string;
  args: Record<string, unknown>;
  sessionId?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  /** Sent as `x-snakepit-correlation-id` where the transport has headers. */
  correlationId?: string | undefined;
  /** A transport-level deadline (the pool's own timeout handling fires first). */
  deadlineMs?: number | undefined;
  /** The session's state, sent with its first call on a worker new to it (`on_session_restore`). */
  restore?: Record<string, unknown> | undefined;
}

/** A request from Python to the host (docs/protocol.md, "Calls from Python to the host"). */
export type HostRequest =
  | { op: 'call'; callId: number | undefined; tool: string; args: Record<string, unknown>; timeoutMs: number | undefined }
  | { op: 'list'; callId: number | undefined }
  | { op: 'state'; callId: number | undefined; action: 'get_all' | 'set' | 'delete' | 'clear'; key?: string | undefined; value?: unknown };

/** Answers Python's host requests: resolves with the reply value, rejects with the error to send back. */
export type HostRequestHandler = (request: HostRequest) => Promise<unknown>;

/** Receives streamed items as Python yields them. */
export type ChunkHandler = (data: unknown, final: boolean) => void;

/** A call in flight: its wire id and its outcome. */
export interface CallHandle {
  readonly id: number;
  /** Resolves with the tool's value (unary) or `undefined` after the last chunk (stream). */
  readonly result: Promise<unknown>;
}

/** The error map Python sends in `error` and `fatal` frames. */
export interface WireError {
  type: string;
  message: string;
  traceback: string;
  code?: string;
  details?: Record<string, unknown>;
}

/** A bidirectional connection to one Python worker. */
export interface Transport {
  readonly kind: 'pipe' | 'grpc';
  /** Resolves on the worker's `ready` frame; rejects on `fatal`, failure or close. */
  readonly ready: Promise<ReadyInfo>;
  /**
   * Sends a call; `onChunk` makes it a streaming call. With `flow` (a consumer that buffers
   * chunks), Python waits while `flow.highWaterMark` chunks wait on the host.
   */
  call(request: CallRequest, onChunk?: ChunkHandler, flow?: StreamFlow): CallHandle;
  /** Asks Python to cancel a running call (cooperative; the call still settles). */
  cancel(id: number): void;
  /** Round trip to the worker's control thread; rejects after `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  /** Asks the worker to run `cleanup()` and exit. */
  shutdown(): void;
  /** Runs the adapter's `cleanup_session(session_id)` hook, if any (a session ended). */
  cleanupSession(sessionId: string): Promise<void>;
  /** Fails every pending call and the handshake with `error`; further calls fail at once. */
  fail(error: Error): void;
  /** Number of calls awaiting an outcome. */
  readonly pendingCount: number;
}
