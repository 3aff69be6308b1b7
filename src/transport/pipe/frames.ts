/**
 * Every frame of the pipe protocol (docs/protocol.md), typed both ways: what the host sends
 * (`HostFrame`) and what a worker sends (`WorkerFrame`). Python's `snakepit_bridge/pipe/frames.py`
 * is the other half; a test compares the two lists.
 */
import type { TelemetryControl, WirePythonEvent } from '../../telemetry/python-events.js';
import type { ReadyInfo, WireError } from '../types.js';

/** Host → worker. */
export type HostFrame =
  | {
      t: 'call';
      id: number;
      tool: string;
      args: Record<string, unknown>;
      /** Absent (or nil): no session. */
      session?: string | null;
      /** Absent (or nil): no request metadata. */
      meta?: Record<string, unknown> | null;
      corr?: string | null;
      /** Absent: false. */
      stream?: boolean;
      /** The session's state to restore first (`on_session_restore`). */
      restore?: Record<string, unknown>;
      /** Flow control: chunks Python may send beyond those granted by `credit` frames. */
      window?: number;
    }
  | {
      /** Many inputs of one tool, run back to back (`sp.map`): a call's keys with `items` for `args`. */
      t: 'batch';
      id: number;
      tool: string;
      items: readonly Record<string, unknown>[];
      /** The first failing input ends the batch. */
      fail_fast: boolean;
      session: string | null;
      meta: Record<string, unknown> | null;
      corr: string | null;
      restore?: Record<string, unknown>;
    }
  | { t: 'cancel'; id: number }
  /** Takes back a call sent but not started (another worker is free). */
  | { t: 'recall'; id: number }
  | { t: 'credit'; id: number; n: number }
  | { t: 'ping'; id: number }
  | { t: 'session_cleanup'; id: number; session: string }
  | ({ t: 'telemetry_control'; callTimes?: boolean } & TelemetryControl)
  | { t: 'host_reply'; id: number; value?: unknown; error?: WireError }
  | { t: 'shutdown' };

/** Worker → host. */
export type WorkerFrame =
  | ({ t: 'ready' } & ReadyInfo)
  | { t: 'fatal'; error: WireError }
  | { t: 'result'; id: number; value: unknown }
  | { t: 'chunk'; id: number; data: unknown; final: boolean; metadata?: Record<string, unknown> }
  /** A batch's next results in input order; `errors`: `[index in values, error map]` of the inputs that failed. */
  | { t: 'items'; id: number; values: unknown[]; errors?: [number, WireError][] }
  | { t: 'end'; id: number }
  | { t: 'error'; id: number; error: WireError }
  | { t: 'pong'; id: number }
  /** The answer to `recall`: `returned` when the call had not started (it is gone), else it runs on. */
  | { t: 'recalled'; id: number; returned: boolean }
  | { t: 'telemetry'; events: WirePythonEvent[] }
  | {
      t: 'host';
      id: number;
      /** The call this request is made for (null: none, e.g. from `initialize()`). */
      call: number | null;
      op: string;
      tool?: string;
      args?: Record<string, unknown>;
      timeout_ms?: number | null;
      action?: string;
      key?: string;
      value?: unknown;
    };

/**
 * Compact forms (protocol 2, docs/protocol.md "Compact frames"): the two frames of nearly every call
 * as msgpack arrays whose first element names them; decoding an array skips a map's keys, the
 * largest part of reading a small frame. Python's `frames.py` has the same codes (a test compares).
 */
export const COMPACT = {
  /** `[0, id, tool, args, corr]`: a `call` with no session, metadata, stream, restore or window; sent to workers of protocol 2 or more. */
  call: 0,
  /**
   * `[1, id, value]`: a `result`; a worker sends it once the host has sent it a compact call. With the
   * bridge's call events on and `callTimes` in the host's telemetry settings it may be
   * `[1, id, value, flags, systemTimeNs, durationNs]`: the call's times (`CompactCallTimes`).
   */
  result: 1,
} as const;

/** Bits of a compact result's `flags`: which of the bridge's call events it carries (Python's `call_events.CARRIES_*`). */
export const CARRIES = { start: 1, stop: 2 } as const;

export type CompactCall = [typeof COMPACT.call, number, string, Record<string, unknown>, string | null];
export type CompactResult = [typeof COMPACT.result, number, unknown] | CompactCallTimes;
/** A compact result with its call's times: `flags` (`CARRIES`), wall time at the start and duration, in ns. */
export type CompactCallTimes = [typeof COMPACT.result, number, unknown, number, number | bigint, number];

// Records keyed by the unions' tags: adding a frame to a union without listing it here fails to compile.
const HOST_FRAMES: Record<HostFrame['t'], true> = {
  call: true,
  batch: true,
  cancel: true,
  recall: true,
  credit: true,
  ping: true,
  session_cleanup: true,
  telemetry_control: true,
  host_reply: true,
  shutdown: true,
};
const WORKER_FRAMES: Record<WorkerFrame['t'], true> = {
  ready: true,
  fatal: true,
  result: true,
  chunk: true,
  items: true,
  end: true,
  error: true,
  pong: true,
  recalled: true,
  telemetry: true,
  host: true,
};

/** The `t` of every frame the host sends. */
export const HOST_FRAME_TYPES: readonly HostFrame['t'][] = Object.keys(HOST_FRAMES) as HostFrame['t'][];
/** The `t` of every frame a worker sends. */
export const WORKER_FRAME_TYPES: readonly WorkerFrame['t'][] = Object.keys(WORKER_FRAMES) as WorkerFrame['t'][];
