/**
 * The event catalog: every name the bus publishes, with its measurements and metadata. The
 * original's `[:snakepit, :pool, :queue, :enqueued]` is `snakepit.pool.queue.enqueued` here.
 * Names are a closed set (a typed map, not free-form strings): Python may only emit the
 * `snakepit.python.*` names listed here, so a worker cannot create channels at will.
 */

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
type WorkerMeta = {
  pool: string;
  workerId: string;
};
type None = Record<string, never>;
type Ev<M extends Measurements, D> = { measurements: M; metadata: D };

/** Every host-side event with its payload shape. */
export interface HostEventMap {
  'snakepit.pool.initialized': Ev<{ durationMs: number; workers: number }, { pool: string }>;
  /** The pool's health status changed (the original's periodic snapshot is `snakepit status`). */
  'snakepit.pool.status': Ev<{ workers: number; available: number; busy: number; queued: number }, { pool: string; status: string }>;
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
  'snakepit.pool.worker.recycled': Ev<None, WorkerMeta & { reason: string }>;
  'snakepit.call.start': Ev<{ systemTime: number }, CallMeta>;
  'snakepit.call.stop': Ev<{ durationMs: number }, CallMeta & { workerId: string | undefined }>;
  'snakepit.call.exception': Ev<{ durationMs: number }, CallMeta & { workerId: string | undefined; code: string | undefined; kind: string }>;
  'snakepit.stream.opened': Ev<None, CallMeta>;
  'snakepit.stream.message': Ev<{ index: number }, CallMeta>;
  'snakepit.stream.closed': Ev<{ messages: number; durationMs: number }, CallMeta & { ok: boolean }>;
  'snakepit.heartbeat.missed': Ev<{ missed: number }, WorkerMeta & { maxMissed: number }>;
  'snakepit.heartbeat.recovered': Ev<{ missedBefore: number }, WorkerMeta>;
  /** The crash barrier classified a worker death. */
  'snakepit.worker.crash': Ev<None, { pool: string | undefined; workerId: string; reason?: unknown }>;
  'snakepit.crash_barrier.slot_removed': Ev<None, WorkerMeta & { reason: string }>;
  'snakepit.circuit_breaker.opened': Ev<{ failureCount: number }, { pool: string | undefined }>;
  'snakepit.circuit_breaker.closed': Ev<None, { pool: string | undefined }>;
  'snakepit.circuit_breaker.half_open': Ev<None, { pool: string | undefined }>;
  'snakepit.retry.attempt': Ev<{ attempt: number; delayMs: number }, { lastError: unknown }>;
  'snakepit.retry.exhausted': Ev<{ attempts: number }, { lastError: unknown }>;
  'snakepit.telemetry.dropped': Ev<{ count: number }, { workerId: string; name: string }>;
  'snakepit.session.created': Ev<{ ttlMs: number }, { sessionId: string }>;
  /** A session ended: `reason` is `expired` or `deleted`. */
  'snakepit.session.ended': Ev<{ lifetimeMs: number; calls: number }, { sessionId: string; reason: string }>;
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
  /** `telemetry.gpuProfiler`: one nvidia-smi reading of one GPU (fields it reports as N/A left out). */
  'snakepit.gpu.sampled': Ev<
    Partial<{ memoryUsedMb: number; memoryTotalMb: number; utilizationPercent: number; temperatureC: number; powerW: number }>,
    { device: number }
  >;
}

/** Python's events: what `snakepit_bridge.telemetry` may emit (other names are counted and dropped). */
export const PYTHON_EVENTS = [
  'snakepit.python.call.start',
  'snakepit.python.call.stop',
  'snakepit.python.call.exception',
  'snakepit.python.tool.execution.start',
  'snakepit.python.tool.execution.stop',
  'snakepit.python.tool.execution.exception',
  'snakepit.python.span.start',
  'snakepit.python.span.stop',
  'snakepit.python.span.exception',
  'snakepit.python.memory.sampled',
  'snakepit.python.cpu.sampled',
  'snakepit.python.custom',
] as const;

export type PythonEventName = (typeof PYTHON_EVENTS)[number];

/** Metadata every folded Python event carries (plus what Python put there). */
export interface PythonMeta extends Metadata {
  pool: string;
  workerId: string;
  correlationId: string | undefined;
}

/** The whole typed map: host events plus Python's. */
export type TelemetryEventMap = HostEventMap & { [N in PythonEventName]: Ev<Measurements, PythonMeta> };
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
  'snakepit.heartbeat.missed',
  'snakepit.heartbeat.recovered',
  'snakepit.worker.crash',
  'snakepit.crash_barrier.slot_removed',
  'snakepit.circuit_breaker.opened',
  'snakepit.circuit_breaker.closed',
  'snakepit.circuit_breaker.half_open',
  'snakepit.retry.attempt',
  'snakepit.retry.exhausted',
  'snakepit.telemetry.dropped',
  'snakepit.zero_copy.exported',
  'snakepit.zero_copy.imported',
  'snakepit.zero_copy.fallback',
  'snakepit.session.created',
  'snakepit.session.ended',
  'snakepit.cleanup.orphans_reaped',
  'snakepit.cleanup.completed',
  'snakepit.gpu.sampled',
  'snakepit.grpc.connection.established',
  'snakepit.grpc.connection.lost',
  'snakepit.grpc.connection.reconnected',
];

/** Every catalogued name, host events first. */
export const EVENT_NAMES: readonly TelemetryEventName[] = [...HOST_EVENTS, ...PYTHON_EVENTS];

const PYTHON_SET = new Set<string>(PYTHON_EVENTS);

/**
 * Maps a name Python sent (`tool.execution.stop`, `python.tool.execution.stop` or the full
 * `snakepit.python.tool.execution.stop`) to its catalogued name; undefined when not catalogued.
 */
export function pythonEventName(name: string): PythonEventName | undefined {
  const full = name.startsWith('snakepit.python.') ? name : name.startsWith('python.') ? `snakepit.${name}` : `snakepit.python.${name}`;
  return PYTHON_SET.has(full) ? (full as PythonEventName) : undefined;
}
