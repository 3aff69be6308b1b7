/**
 * The event catalog: every `snakepit.*` name the bus publishes, with its measurements and
 * metadata. The original's `[:snakepit, :pool, :queue, :enqueued]` is `snakepit.pool.queue.enqueued`
 * here. Names are a closed set (a typed map, not free-form strings): Python may only emit the
 * `snakepit.python.*` names of python-catalog.ts, so a worker cannot create channels at will.
 * The ML and resilience events are in catalog-ml.ts.
 */
import { ML_EVENTS, type MlEventMap } from './catalog-ml.js';
import { PYTHON_EVENTS, type PythonEventName } from './python-catalog.js';

/** Numbers only: durations are in milliseconds (`durationMs`), times in epoch ms (`systemTime`). */
export type Measurements = Record<string, number>;
/** Context: pool, worker id, tool, correlation id, error code… */
export type Metadata = Record<string, unknown>;

type CallMeta = {
  pool: string;
  tool: string;
  correlationId: string;
  stream: boolean;
  sessionId?: string | undefined;
};
/** A map's metadata (`sp.map`): its pool, tool, correlation id (shared by its chunks' calls) and mode. */
type MapMeta = {
  pool: string;
  tool: string;
  correlationId: string;
  mode: 'fail' | 'settle';
  sessionId?: string | undefined;
};
type WorkerMeta = {
  pool: string;
  workerId: string;
};
/** An event without measurements. */
export type None = Record<string, never>;
/** One event's payload shape. */
export type Ev<M extends Measurements, D> = { measurements: M; metadata: D };

/** Every host-side event with its payload shape. */
export interface HostEventMap {
  'snakepit.pool.initialized': Ev<{ durationMs: number; workers: number }, { pool: string }>;
  /**
   * A snapshot of the pool: every `poolStatusIntervalMs` while anyone listens (`trigger: 'interval'`)
   * and when its health status changes (`trigger: 'health'`).
   */
  'snakepit.pool.status': Ev<
    { queueDepth: number; availableWorkers: number; busyWorkers: number; totalWorkers: number },
    { pool: string; status: string; trigger: 'interval' | 'health' }
  >;
  'snakepit.pool.queue.enqueued': Ev<{ queueDepth: number }, CallMeta>;
  'snakepit.pool.queue.dequeued': Ev<{ queueDepth: number; waitMs: number }, CallMeta & { workerId: string }>;
  'snakepit.pool.queue.timeout': Ev<{ waitMs: number }, CallMeta>;
  'snakepit.pool.saturated': Ev<{ queueDepth: number; maxQueueSize: number }, CallMeta>;
  'snakepit.pool.worker.spawn_started': Ev<{ systemTime: number }, WorkerMeta>;
  'snakepit.pool.worker.spawned': Ev<{ durationMs: number }, WorkerMeta & { pid: number | undefined }>;
  'snakepit.pool.worker.spawn_failed': Ev<{ durationMs: number }, WorkerMeta & { code: string | undefined }>;
  'snakepit.pool.worker.terminated': Ev<{ lifetimeMs: number }, WorkerMeta & { expected: boolean; reason: string | undefined; exitCode: number | null; signal: string | null }>;
  /** A replacement of a crashed worker is ready. */
  'snakepit.pool.worker.restarted': Ev<None, WorkerMeta>;
  /**
   * A worker was replaced (`reason`: ttl, max_requests, memory, manual): `memoryMb` its resident
   * memory when the recycle began (left out where unreadable), `uptimeMs`, `requests` it served.
   */
  'snakepit.pool.worker.recycled': Ev<{ memoryMb?: number; uptimeMs: number; requests: number }, WorkerMeta & { reason: string; memoryThresholdMb?: number }>;
  'snakepit.call.start': Ev<{ systemTime: number }, CallMeta>;
  'snakepit.call.stop': Ev<{ durationMs: number }, CallMeta & { workerId: string | undefined }>;
  /** `category`: the error's (worker, timeout, python_error, grpc_error, validation, pool); undefined for a non-Snakepit error. */
  'snakepit.call.exception': Ev<{ durationMs: number }, CallMeta & { workerId: string | undefined; code: string | undefined; category: string | undefined; kind: string }>;
  'snakepit.stream.opened': Ev<None, CallMeta>;
  'snakepit.stream.message': Ev<{ index: number }, CallMeta>;
  'snakepit.stream.closed': Ev<{ messages: number; durationMs: number }, CallMeta & { ok: boolean }>;
  /** `sp.map` / `sp.mapIterable` began: `total` inputs. */
  'snakepit.map.start': Ev<{ total: number; systemTime: number }, MapMeta>;
  /** A map's results arrived (a chunk's inputs stream back as they finish): inputs with a result so far, failed ones, all. */
  'snakepit.map.progress': Ev<{ done: number; failed: number; total: number }, MapMeta>;
  /** The map ended: `ok` false when it rejected (fail mode, abort, a throwing `onProgress`) with `code`; `chunks` it sent. */
  'snakepit.map.stop': Ev<{ durationMs: number; done: number; failed: number; chunks: number }, MapMeta & { ok: boolean; code: string | undefined }>;
  /** A heartbeat ping went out. */
  'snakepit.heartbeat.ping_sent': Ev<None, WorkerMeta>;
  /** Its pong came back after `latencyMs`. */
  'snakepit.heartbeat.pong_received': Ev<{ latencyMs: number }, WorkerMeta>;
  'snakepit.heartbeat.missed': Ev<{ missed: number }, WorkerMeta & { maxMissed: number }>;
  'snakepit.heartbeat.recovered': Ev<{ missedBefore: number }, WorkerMeta>;
  /** Heartbeats gave up on a worker (it is killed as hung): `failureReason` `heartbeat_timeout` or `ping_failed`. */
  'snakepit.heartbeat.monitor_failure': Ev<{ missed: number }, WorkerMeta & { failureReason: 'heartbeat_timeout' | 'ping_failed' }>;
  /** The crash barrier classified a worker death. */
  'snakepit.worker.crash': Ev<None, { pool: string | undefined; workerId: string; reason?: unknown }>;
  'snakepit.crash_barrier.slot_removed': Ev<None, WorkerMeta & { reason: string }>;
  /**
   * The crash barrier tainted a crashed worker's slot (the original's `[:snakepit, :worker, :tainted]`):
   * `durationMs` its taint; `reason` and `classification` of the crash, `device` `'cuda'` when the worker's last words said so.
   */
  'snakepit.worker.tainted': Ev<
    { durationMs: number },
    WorkerMeta & { reason: string; classification: string; exitCode: number | null; signal: string | null; device?: string }
  >;
  /**
   * A Python event was dropped: its name is not catalogued (`reason: 'unknown_event'`), or a
   * measurement key is outside the allowlist or not a number. `count`: drops since start.
   */
  'snakepit.telemetry.dropped': Ev<
    { count: number },
    { workerId: string; name: string; reason: 'unknown_event' | 'unknown_measurement_key' | 'invalid_measurement'; key?: string }
  >;
  'snakepit.session.created': Ev<{ ttlMs: number }, { sessionId: string }>;
  /** A session ended: `reason` is `expired` or `deleted`. */
  'snakepit.session.ended': Ev<{ lifetimeMs: number; calls: number }, { sessionId: string; reason: string }>;
  /** A call of the session went to a worker (`calls`: its calls so far, this one included). */
  'snakepit.session.accessed': Ev<{ calls: number }, { sessionId: string; pool: string; workerId: string }>;
  /** The session's calls now go to `workerId` (its first worker, or another after `previousWorkerId`). */
  'snakepit.session.affinity.assigned': Ev<None, { sessionId: string; pool: string; workerId: string; previousWorkerId: string | undefined }>;
  /** The session's worker is gone (`reason`: the worker exited or was recycled away). */
  'snakepit.session.affinity.broken': Ev<None, { sessionId: string; pool: string; workerId: string; reason: string }>;
  /** A session program was stored (`session.putProgram`, or Python's `put_program`). */
  'snakepit.session.program.stored': Ev<None, { sessionId: string; programId: string }>;
  'snakepit.session.program.retrieved': Ev<None, { sessionId: string; programId: string; found: boolean }>;
  'snakepit.session.program.deleted': Ev<None, { sessionId: string; programId: string; existed: boolean }>;
  /** Zero-copy (issue 10): the host wrote a call's large argument to /dev/shm. */
  'snakepit.zero_copy.exported': Ev<{ bytes: number; durationMs: number }, { name: string }>;
  /** The host read (and removed) a large value Python sent through /dev/shm. */
  'snakepit.zero_copy.imported': Ev<{ bytes: number; durationMs: number }, { name: string }>;
  /** /dev/shm refused a write (full, no permission): the value went inline instead. */
  'snakepit.zero_copy.fallback': Ev<{ bytes: number }, { reason: string }>;
  /** A sweep of dead runs' workers finished (at start, or `Snakepit.reapOrphans()`); counts of pids. */
  'snakepit.cleanup.orphans_reaped': Ev<
    { durationMs: number; deadRuns: number; terminated: number; killed: number; resisted: number },
    { trigger: 'startup' | 'manual'; deadRuns: string[] }
  >;
  /** `Snakepit.cleanup()` finished: instances stopped, pids that needed SIGKILL or resisted it. */
  'snakepit.cleanup.completed': Ev<{ durationMs: number; stopped: number; killed: number; resisted: number }, { trigger: 'manual' }>;
  /** The host reached a gRPC worker's BridgeService (handshake done); `attached`: not spawned by us. */
  'snakepit.grpc.connection.established': Ev<{ durationMs: number }, { workerId: string; attached: boolean; address: string; pid: number }>;
  /** That connection ended: the channel broke (attached worker) or the worker stopped or died; `code` is why. */
  'snakepit.grpc.connection.lost': Ev<None, { workerId: string; attached: boolean; address: string; code: string | undefined }>;
  /**
   * An attached worker's address answers again after its connection was lost (not after a stop):
   * emitted right after that new connection's `established`. `downtimeMs` since the loss,
   * `attempts` connections tried (this one included); `previousWorkerId` held the lost one.
   */
  'snakepit.grpc.connection.reconnected': Ev<
    { downtimeMs: number; attempts: number },
    { workerId: string; previousWorkerId: string; attached: true; address: string; pid: number }
  >;
}

/** Metadata every folded Python event carries (plus what Python put there). */
export interface PythonMeta extends Metadata {
  pool: string;
  workerId: string;
  correlationId: string | undefined;
}

/** The whole typed map: host events, the ML and resilience events, and Python's. */
export type TelemetryEventMap = HostEventMap & MlEventMap & { [N in PythonEventName]: Ev<Measurements, PythonMeta> };
export type TelemetryEventName = keyof TelemetryEventMap;

const HOST_EVENTS: readonly (keyof HostEventMap)[] = [
  'snakepit.pool.initialized',
  'snakepit.pool.status',
  'snakepit.pool.queue.enqueued',
  'snakepit.pool.queue.dequeued',
  'snakepit.pool.queue.timeout',
  'snakepit.pool.saturated',
  'snakepit.pool.worker.spawn_started',
  'snakepit.pool.worker.spawned',
  'snakepit.pool.worker.spawn_failed',
  'snakepit.pool.worker.terminated',
  'snakepit.pool.worker.restarted',
  'snakepit.pool.worker.recycled',
  'snakepit.call.start',
  'snakepit.call.stop',
  'snakepit.call.exception',
  'snakepit.stream.opened',
  'snakepit.stream.message',
  'snakepit.stream.closed',
  'snakepit.map.start',
  'snakepit.map.progress',
  'snakepit.map.stop',
  'snakepit.heartbeat.ping_sent',
  'snakepit.heartbeat.pong_received',
  'snakepit.heartbeat.missed',
  'snakepit.heartbeat.recovered',
  'snakepit.heartbeat.monitor_failure',
  'snakepit.worker.crash',
  'snakepit.crash_barrier.slot_removed',
  'snakepit.worker.tainted',
  'snakepit.telemetry.dropped',
  'snakepit.zero_copy.exported',
  'snakepit.zero_copy.imported',
  'snakepit.zero_copy.fallback',
  'snakepit.session.created',
  'snakepit.session.ended',
  'snakepit.session.accessed',
  'snakepit.session.affinity.assigned',
  'snakepit.session.affinity.broken',
  'snakepit.session.program.stored',
  'snakepit.session.program.retrieved',
  'snakepit.session.program.deleted',
  'snakepit.cleanup.orphans_reaped',
  'snakepit.cleanup.completed',
  'snakepit.grpc.connection.established',
  'snakepit.grpc.connection.lost',
  'snakepit.grpc.connection.reconnected',
];

/** Every catalogued name: host events, then the ML and resilience ones, then Python's. */
export const EVENT_NAMES: readonly TelemetryEventName[] = [...HOST_EVENTS, ...ML_EVENTS, ...PYTHON_EVENTS];

export { PYTHON_EVENTS, pythonEventName, type PythonEventName } from './python-catalog.js';
