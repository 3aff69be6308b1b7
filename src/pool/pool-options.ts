/** Turns one resolved pool config into what the Pool engine needs. */
import type { ResolvedPoolConfig } from '../config/index.js';
import { ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { resolvePythonExecutable } from '../python/runtime.js';
import { buildWorkerEnv } from '../python/worker-env.js';
import { dataPlaneEnv, payloadOptions, type DataPlaneConfig } from '../transport/data-plane.js';
import type { HostServer } from '../transport/grpc/host-server.js';
import { withHeartbeatEnv } from '../worker/heartbeat.js';
import { capacityStrategyNote, workerCapacity } from './capacity.js';
import type { CrashBarrierOptions } from './crash-barrier.js';
import { ttlToMs } from './lifecycle.js';
import type { PoolOptions } from './pool.js';

/** What the instance provides to every pool: run id, cwd, logger, and the gRPC plumbing if any. */
export interface PoolContext {
  runId: string;
  cwd: string;
  logger: Logger;
  grpc?: {
    socketDir: string;
    workerToken: string;
    /** The host's gRPC server: gRPC workers register there to call the host back. */
    host: HostServer;
  } | undefined;
  /** Answers workers' requests to the host (host tools, session state). */
  hostRequests?: PoolOptions['hostRequests'];
  /** The instance's `zeroCopy`, `maxPayloadBytes`, `serialization`; undefined: inline, no limit of its own. */
  dataPlane?: DataPlaneConfig | undefined;
  /** Session bookkeeping as a session's call is dispatched (and the state to restore). */
  onSessionDispatch?: PoolOptions['onSessionDispatch'];
  onSessionRestoreLost?: PoolOptions['onSessionRestoreLost'];
  /** The instance's `crashBarrier` config, the same for every pool. */
  crashBarrier?: CrashBarrierOptions | undefined;
  /** The instance's `circuitBreaker` config, one breaker per pool. */
  circuitBreaker?: PoolOptions['circuitBreaker'];
}

function withDataPlaneEnv(env: Record<string, string>, context: PoolContext): Record<string, string> {
  return { ...env, ...dataPlaneEnv(context.dataPlane, context.runId) };
}

/** Pool engine options from config. Throws a typed error for combinations the schema cannot see. */
export function buildPoolOptions(pool: ResolvedPoolConfig, context: PoolContext): PoolOptions {
  if (pool.workers && pool.transport !== 'grpc') {
    throw new ValidationError(`Pool ${pool.name}: attached \`workers\` need transport 'grpc', got '${pool.transport}'`, 'invalid_config', { pool: pool.name, field: 'transport' });
  }
  // The heartbeat variables tell Python's watchdog how often to expect pings (docs/protocol.md).
  const env = withDataPlaneEnv(withHeartbeatEnv(
    buildWorkerEnv({
      profile: pool.workerProfile,
      adapterEnv: pool.adapterEnv,
      pythonPath: pool.pythonPath,
      pythonLogLevel: pool.logLevel,
      threadsPerWorker: pool.threadsPerWorker,
      threadSafetyChecks: pool.threadSafetyChecks,
      threadLimits: pool.threadLimits,
    }),
    pool.heartbeat,
  ), context);
  const capacityNote = capacityStrategyNote(pool);
  if (capacityNote) context.logger.warn(capacityNote, { pool: pool.name });
  return {
    name: pool.name,
    size: pool.workers ? pool.workers.length : pool.poolSize,
    capacityPerWorker: workerCapacity(pool),
    pipelineDepth: pool.pipelineDepth,
    affinity: pool.affinity,
    queueTimeoutMs: pool.poolQueueTimeoutMs,
    maxQueueSize: pool.poolMaxQueueSize,
    startupTimeoutMs: pool.poolStartupTimeoutMs,
    startupBatchSize: pool.startupBatchSize,
    startupBatchDelayMs: pool.startupBatchDelayMs,
    gracefulShutdownTimeoutMs: pool.gracefulShutdownTimeoutMs,
    defaultTimeoutMs: pool.defaultTimeoutMs,
    defaultStreamTimeoutMs: pool.defaultStreamTimeoutMs,
    streamHighWaterMark: pool.streamHighWaterMark,
    cancelGraceMs: pool.cancelGraceMs,
    logger: context.logger.child({ category: 'pool' }),
    hostRequests: context.hostRequests,
    onSessionDispatch: context.onSessionDispatch,
    onSessionRestoreLost: context.onSessionRestoreLost,
    hostServer: pool.transport === 'grpc' ? context.grpc?.host : undefined,
    heartbeat: pool.heartbeat,
    lifecycle: {
      ttlMs: ttlToMs(pool.workerTtl),
      maxRequests: pool.workerMaxRequests === 'infinity' ? Infinity : pool.workerMaxRequests,
      memoryThresholdMb: pool.memoryThresholdMb,
      checkIntervalMs: pool.lifecycleCheckIntervalMs,
    },
    crashBarrier: context.crashBarrier,
    circuitBreaker: context.circuitBreaker,
    endpoints: pool.workers
      ? { kind: 'attach', workers: pool.workers.map((w) => ({ kind: 'attach', address: w.address, token: w.token, payload: payloadOptions(context.dataPlane, context.runId, false) })) }
      : {
          kind: 'spawn',
          template: {
            kind: 'spawn',
            transport: pool.transport,
            runId: context.runId,
            python: resolvePythonExecutable(pool.pythonExecutable, context.cwd),
            adapter: pool.adapter,
            adapterArgs: pool.adapterArgs,
            cwd: context.cwd,
            env,
            payload: payloadOptions(context.dataPlane, context.runId, true),
            ...(context.grpc ? { socketDir: context.grpc.socketDir, workerToken: context.grpc.workerToken } : {}),
          },
        },
  };
}
