/** The pool's public shapes: what it needs (options), what it reports (stats, worker snapshots, events). */
import type { Logger } from '../logger.js';
import type { HostRequest } from '../transport/types.js';
import type { AttachedEndpoint, HostServerRef, SpawnedEndpoint, Worker, WorkerExit } from '../worker/worker.js';
import type { AffinityMode } from './scheduler.js';

/** What a pool needs, resolved from config by the facade. */
export interface PoolOptions {
  name: string;
  size: number;
  /** Calls one worker runs at once (1 for the process profile). */
  capacityPerWorker: number;
  /** Calls queued inside each worker beyond those it runs. */
  pipelineDepth: number;
  affinity: AffinityMode;
  queueTimeoutMs: number;
  maxQueueSize: number;
  startupTimeoutMs: number;
  startupBatchSize: number;
  startupBatchDelayMs: number;
  gracefulShutdownTimeoutMs: number;
  defaultTimeoutMs: number;
  defaultStreamTimeoutMs: number;
  cancelGraceMs: number;
  /** Where workers come from: spawned from one template, or attached to running ones (one slot each). */
  endpoints: { kind: 'spawn'; template: SpawnedEndpoint } | { kind: 'attach'; workers: readonly AttachedEndpoint[] };
  maxMessageBytes?: number;
  logger: Logger;
  /** Answers workers' requests to the host (host tools, session state). */
  hostRequests?: ((worker: Worker, request: HostRequest) => Promise<unknown>) | undefined;
  /** gRPC workers register with this server to call the host back. */
  hostServer?: HostServerRef | undefined;
  /**
   * Called as a session's call goes to a worker; returns the session state to send along when
   * the worker must restore it (it has not served the session before).
   */
  onSessionDispatch?: ((sessionId: string, worker: Worker) => Record<string, unknown> | undefined) | undefined;
  /** The call that carried a restore failed: the worker may not have restored the session. */
  onSessionRestoreLost?: ((sessionId: string, worker: Worker) => void) | undefined;
}

/** Counters in the original's shape. */
export interface PoolStats {
  requests: number;
  queued: number;
  errors: number;
  queueTimeouts: number;
  poolSaturated: number;
  workers: number;
  available: number;
  busy: number;
}

/** A worker as `listWorkers()` shows it. */
export interface WorkerInfo {
  id: string;
  pid: number | undefined;
  pool: string;
  state: string;
  load: number;
  capacity: number;
  inflight: number;
  requests: number;
  startedAt: number;
  lastActiveAt: number;
}

export interface PoolEvents {
  'worker:ready': [WorkerInfo];
  'worker:exit': [WorkerInfo, WorkerExit];
  /** No call in flight and none queued. */
  idle: [];
  /** A replacement could not be started; `error` says why. */
  'worker:restart-failed': [Error];
}

/** A worker snapshot for `listWorkers()` and events. */
export function toInfo(w: Worker): WorkerInfo {
  return {
    id: w.id,
    pid: w.pid,
    pool: w.pool,
    state: w.state,
    load: w.load,
    capacity: w.capacity,
    inflight: w.inflight,
    requests: w.requests,
    startedAt: w.startedAt,
    lastActiveAt: w.lastActiveAt,
  };
}
