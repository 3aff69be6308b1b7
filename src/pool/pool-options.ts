/** Turns one resolved pool config into what the Pool engine needs. */
import type { ResolvedPoolConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { resolvePythonExecutable } from '../python/runtime.js';
import { buildWorkerEnv } from '../python/worker-env.js';
import { dataPlaneEnv, payloadOptions, type DataPlaneConfig } from '../transport/data-plane.js';
import { checkTarget, resolveSecurity, resolveToken, type Keepalive } from '../transport/grpc/channel-security.js';
import type { AttachedEndpoint } from '../worker/endpoints.js';
import { withHeartbeatEnv } from '../worker/heartbeat.js';
import { capacityStrategyNote, workerCapacity } from './capacity.js';
import type { PoolOptions, PoolServices } from './pool-types.js';

/** What the instance provides to every pool: run id, cwd, logger, its services and the gRPC plumbing if any. */
export interface PoolContext {
  runId: string;
  cwd: string;
  logger: Logger;
  grpc?: {
    socketDir: string;
    workerToken: string;
  } | undefined;
  /** Host requests, session hooks, the gRPC host server, call observation: the same for every pool. */
  services: Omit<PoolServices, 'logger'>;
  /** The instance's `zeroCopy`, `maxPayloadBytes`, `serialization`; undefined: inline, no limit of its own. */
  dataPlane?: DataPlaneConfig | undefined;
  /** The instance's `circuitBreaker` config, one breaker per pool. */
  circuitBreaker?: PoolOptions['circuitBreaker'];
  /** The instance's `hostToolTimeoutMs`, passed to workers so Python waits as long as the host. */
  hostToolTimeoutMs?: number | undefined;
}

function withDataPlaneEnv(env: Record<string, string>, context: PoolContext): Record<string, string> {
  return { ...env, ...dataPlaneEnv(context.dataPlane, context.runId) };
}

/** Pool engine options from config: the pool's own config, its endpoints, the instance's services. */
export function buildPoolOptions(pool: ResolvedPoolConfig, context: PoolContext): PoolOptions {
  // The heartbeat variables tell Python's watchdog how often to expect pings (docs/protocol.md).
  const env = withDataPlaneEnv(withHeartbeatEnv(
    buildWorkerEnv({
      profile: pool.workerProfile,
      adapterEnv: pool.adapterEnv,
      pythonPath: pool.pythonPath,
      pythonLogLevel: pool.logLevel,
      threadsPerWorker: pool.threadsPerWorker,
      threadSafetyChecks: pool.threadSafetyChecks,
      requireThreadSafeAdapter: pool.requireThreadSafeAdapter,
      hostToolTimeoutMs: context.hostToolTimeoutMs,
      threadLimits: pool.threadLimits,
      schedulingPolicy: pool.schedulingPolicy,
    }),
    pool.heartbeat,
  ), context);
  // validateArgs needs each tool's parameter types in the workers' handshake (docs/protocol.md).
  if (pool.validateArgs) env.SNAKEPIT_TOOL_TYPES = '1';
  const capacityNote = capacityStrategyNote(pool);
  if (capacityNote) context.logger.warn(capacityNote, { pool: pool.name });
  return {
    config: pool,
    crashBarrier: pool.crashBarrier,
    circuitBreaker: context.circuitBreaker,
    services: { ...context.services, logger: context.logger.child({ category: 'pool' }) },
    endpoints: pool.workers
      ? { kind: 'attach', workers: attachedEndpoints(pool, pool.workers, payloadOptions(context.dataPlane, context.runId, false)) }
      : pool.discovery
        ? { kind: 'discover', discovery: pool.discovery, template: remoteTemplate(pool, payloadOptions(context.dataPlane, context.runId, false)) }
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

/** What every remote worker of the pool shares: TLS read once, the pool's token, payload limit, keepalive. */
function remoteTemplate(pool: ResolvedPoolConfig, payload: AttachedEndpoint['payload']): Omit<AttachedEndpoint, 'address'> {
  return { kind: 'attach', token: resolveToken(pool), security: resolveSecurity(pool), payload, keepalive: keepaliveOf(pool.heartbeat) };
}

/** Attached workers with the pool's security; a worker's own token wins over the pool's. */
function attachedEndpoints(pool: ResolvedPoolConfig, workers: NonNullable<ResolvedPoolConfig['workers']>, payload: AttachedEndpoint['payload']): AttachedEndpoint[] {
  const template = remoteTemplate(pool, payload);
  return workers.map((w) => {
    checkTarget(w.address, template.security!, pool.name);
    return { ...template, address: w.address, token: w.token ?? template.token };
  });
}

/**
 * HTTP/2 keepalive at the heartbeat's cadence: a ping every `pingIntervalMs`. With heartbeats off
 * it is what finds a dead pod or a partition, within the heartbeat's bound (`maxMissedHeartbeats`
 * × `timeoutMs` to answer). With them on, the heartbeat finds it within that bound (`worker_hung`)
 * and keepalive is the backstop one `timeoutMs` later: the same silence is not reported twice.
 */
export function keepaliveOf(heartbeat: Pick<ResolvedPoolConfig['heartbeat'], 'enabled' | 'pingIntervalMs' | 'timeoutMs' | 'maxMissedHeartbeats'>): Keepalive {
  const misses = heartbeat.maxMissedHeartbeats + (heartbeat.enabled ? 1 : 0);
  return { timeMs: heartbeat.pingIntervalMs, timeoutMs: heartbeat.timeoutMs * misses };
}
