/** The pool's public shapes: what it needs (options), what it reports (stats, worker snapshots, events). */
import type { ResolvedPoolConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { CircuitBreakerStats } from '../resilience/circuit-breaker.js';
import type { PoolCircuitConfig } from '../resilience/pool-circuit.js';
import type { HostRequest } from '../transport/types.js';
import type { HeartbeatMiss } from '../worker/heartbeat.js';
import type { AttachedEndpoint, HostServerRef, SpawnedEndpoint, Worker, WorkerExit } from '../worker/worker.js';
import type { CrashBarrierOptions, CrashInfo } from './crash-barrier.js';
import type { DiscoverySettings, EndpointTemplate } from './discovery.js';
import type { PoolHealth } from './health.js';
import type { RecycleCounts, RecycleReason } from './lifecycle.js';
import type { CallObserver, Task } from './task.js';

/** What every pool of an instance gets from it: logging, host requests, sessions, the gRPC host. */
export interface PoolServices {
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
  /** Watches each call from its admission (telemetry); undefined when nobody listens. */
  observeCall?: ((pool: string, task: Task) => CallObserver | undefined) | undefined;
}

/** What a pool needs: its resolved config (by the config's own names), where its workers come from, the instance's services. */
export interface PoolOptions {
  config: ResolvedPoolConfig;
  /**
   * Where workers come from: spawned from one template, attached to running ones (one slot each),
   * or attached to the addresses a DNS name resolves to (one slot per address, `discovery.ts`).
   */
  endpoints:
    | { kind: 'spawn'; template: SpawnedEndpoint }
    | { kind: 'attach'; workers: readonly AttachedEndpoint[] }
    | { kind: 'discover'; discovery: DiscoverySettings; template: EndpointTemplate };
  /** Crash barrier (the pool's `crashBarrier`: the top level's with the pool's fields over it). @default off */
  crashBarrier?: CrashBarrierOptions | undefined;
  /** Circuit breaker (the instance's `circuitBreaker` config): a failing pool fails fast. @default off */
  circuitBreaker?: PoolCircuitConfig | undefined;
  services: PoolServices;
}

/** A pool's life: `new` → `starting` → `ready` → `stopping` → `stopped`. */
export type PoolState = 'new' | 'starting' | 'ready' | 'stopping' | 'stopped';

/** Why a remote worker drains (`worker:draining`). */
export type RemoteDrainReason = 'delisted' | 'not_serving' | 'refused';
/** Why a worker drains (`worker:draining`): a remote worker's reasons, or `removed` by a resize. */
export type DrainReason = RemoteDrainReason | 'removed';

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
  /** Workers recycled, all reasons. */
  recycled: number;
  /** Recycles by reason. */
  lifecycle: RecycleCounts;
  /** Calls sent again to another worker after a crash (crash barrier, idempotent calls). */
  retries: number;
  /** `stream()` calls whose Python generator waits now because their consumer has `streamHighWaterMark` chunks to take. */
  streamsHeld: number;
  /** Times a stream was held so, in all. */
  streamHolds: number;
  /** The pool's circuit breaker (config `circuitBreaker`): state and counters; absent when it is off. */
  circuitBreaker?: CircuitBreakerStats;
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
  /** When it started (ms since the epoch). */
  startedAt: number;
  /** When it last ran a call (ms since the epoch): now while it runs one, else when the last one left it (or it started). */
  lastActiveAt: number;
  /** When the last heartbeat pong arrived (ms since the epoch); null before the first or with heartbeats off. */
  lastHeartbeatAt: number | null;
  /** Milliseconds since the last pong; null before the first. */
  heartbeatAgeMs: number | null;
  /** Heartbeats missed in a row (0 after any pong). */
  missedHeartbeats: number;
  /** Where an attached (remote) worker is reached, `host:port` or `unix:/path`; absent for spawned workers. */
  address?: string;
  /** Where a remote worker runs, as it reports it (its `SNAKEPIT_ZONE`: a zone or node name); absent when it reports none. */
  zone?: string;
  /** How its process started: `'spawn'`, `'fork'` (from the pool's template), null for attached workers. */
  startMode: 'spawn' | 'fork' | null;
}

export interface PoolEvents {
  'worker:ready': [WorkerInfo];
  'worker:exit': [WorkerInfo, WorkerExit];
  /** No call in flight and none queued. */
  idle: [];
  /** A replacement could not be started; `error` says why. */
  'worker:restart-failed': [Error];
  /** A heartbeat ping failed or timed out; at `miss.maxMissed` in a row the worker is killed. */
  'worker:heartbeat-missed': [WorkerInfo, HeartbeatMiss];
  /** A pong came after `missedBefore` misses in a row. */
  'worker:heartbeat-recovered': [WorkerInfo, number];
  /**
   * A worker stopped taking calls and finishes those it has: a resize let it go (`removed`), or, for
   * a remote worker, its address left the discovery name (`delisted`), its health service said
   * NOT_SERVING (`not_serving`), or it refused a call (`refused`).
   */
  'worker:draining': [WorkerInfo, DrainReason];
  /** A worker was replaced by a fresh one (it is gone, the replacement is ready); `memoryMb`: its RSS when the recycle began. */
  'worker:recycled': [WorkerInfo, RecycleReason, memoryMb: number | undefined];
  /** A worker died without the host asking it to stop (also host kills: heartbeat, ignored cancel). */
  'worker:crash': [WorkerInfo, CrashInfo];
  /** A crash that `crashBarrier.markOn` names tainted the worker's slot: its replacement gets no calls for `durationMs` while others serve. */
  'worker:tainted': [WorkerInfo, CrashInfo, durationMs: number];
  /** The crash barrier removed a worker slot for good: the pool is one worker smaller. */
  'worker:removed': [WorkerInfo, CrashInfo];
  /** `health().status` changed. */
  health: [PoolHealth];
}

/** Counters of several pools added up (recycles by reason too). */
export function sumStats(all: readonly PoolStats[]): PoolStats {
  const total: PoolStats = {
    requests: 0, queued: 0, errors: 0, queueTimeouts: 0, poolSaturated: 0, workers: 0, available: 0, busy: 0, recycled: 0, retries: 0,
    streamsHeld: 0, streamHolds: 0,
    lifecycle: { ttl: 0, max_requests: 0, memory: 0, manual: 0 },
  };
  for (const s of all) {
    for (const key of Object.keys(total) as (keyof PoolStats)[]) if (key !== 'lifecycle' && key !== 'circuitBreaker') total[key] += s[key];
    for (const reason of Object.keys(total.lifecycle) as RecycleReason[]) total.lifecycle[reason] += s.lifecycle[reason];
  }
  return total;
}

/** `stats()`'s worker counts: all, with a free slot (`available`), with a call in flight (`busy`). */
export function workerCounts(workers: readonly Pick<Worker, 'hasFreeSlot' | 'inflight'>[]): Pick<PoolStats, 'workers' | 'available' | 'busy'> {
  let available = 0;
  let busy = 0;
  for (const w of workers) {
    if (w.hasFreeSlot) available++;
    if (w.inflight > 0) busy++;
  }
  return { workers: workers.length, available, busy };
}

/** A worker snapshot for `listWorkers()` and events. */
export function toInfo(w: Worker): WorkerInfo {
  const { lastHeartbeatAt, missedHeartbeats } = w.heartbeat;
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
    lastHeartbeatAt,
    heartbeatAgeMs: lastHeartbeatAt === null ? null : Date.now() - lastHeartbeatAt,
    missedHeartbeats,
    ...(w.options.endpoint.kind === 'attach' ? { address: w.options.endpoint.address } : {}),
    ...(w.readyInfo?.zone ? { zone: w.readyInfo.zone } : {}),
    startMode: w.startMode,
  };
}
