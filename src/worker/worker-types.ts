/** A worker's contract: what it is started with (`WorkerOptions`), who hears of its calls (`WorkerOwner`), and the events it emits. */
import type { Logger } from '../logger.js';
import type { HostRequest, OutgoingCall } from '../transport/types.js';
import type { HostServerRef } from './connection.js';
import type { AttachedEndpoint, SpawnedEndpoint, WorkerExit } from './endpoints.js';
import type { HeartbeatMiss, HeartbeatSettings } from './heartbeat.js';
import type { Worker } from './worker.js';
import type { WorkerChild } from './worker-process.js';

/** Who hears of a worker's calls as they end (the pool's dispatcher): one event per call. */
export interface WorkerOwner {
  /** `call` ended on `worker` (its slot is already free): `ok` with the value, else with the error; `nowMs`: when (`clockMs()`). */
  callEnded(worker: Worker, call: OutgoingCall, ok: boolean, outcome: unknown, nowMs: number): void;
  /** `call`, which waited inside `worker` behind others, started running there. */
  callStarted(worker: Worker, call: OutgoingCall): void;
  /**
   * `call` left `worker` without having started: taken back (`recall`) or its worker died with it
   * waiting. It never ran there, so it may run anywhere (no retry spent).
   */
  callReturned(worker: Worker, call: OutgoingCall): void;
  /** `call` was asked back (`recall`) but stays on `worker`: it had started there. */
  callKept(worker: Worker, call: OutgoingCall): void;
}

/** Everything needed to start one worker. */
export interface WorkerOptions {
  id: string;
  pool: string;
  endpoint: SpawnedEndpoint | AttachedEndpoint;
  startupTimeoutMs: number;
  /** Calls the worker runs at once (1 for the process profile). */
  capacity: number;
  /** Calls it may hold queued in its pipe beyond `capacity`. @default 0 */
  pipelineDepth?: number;
  /** A running call this old: no more calls wait behind it, those waiting are taken back (config `pipelineStallMs`). @default 5 */
  pipelineStallMs?: number;
  logger: Logger;
  /** Hears of each call's end. @default none */
  owner?: WorkerOwner | undefined;
  /** Answers the worker's requests to the host (host tools, session state). */
  hostRequests?: ((worker: Worker, request: HostRequest) => Promise<unknown>) | undefined;
  /** gRPC workers call the host back through this server; they register there for a token. */
  hostServer?: HostServerRef | undefined;
  /** Ping the worker once ready; too many misses in a row kill it (code `worker_hung`). @default off */
  heartbeat?: HeartbeatSettings | undefined;
  /** Its process, already started (forked from the pool's template); else spawned from `endpoint`. */
  child?: WorkerChild | undefined;
}

/** What a worker emits (its pool listens). */
export interface WorkerEvents {
  exit: [WorkerExit];
  'heartbeat-missed': [HeartbeatMiss];
  /** A pong after `missedBefore` misses in a row. */
  'heartbeat-recovered': [missedBefore: number];
  /** A draining worker's last call ended. */
  drained: [];
}
