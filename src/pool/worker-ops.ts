/** What a pool does to its workers in bulk: start one with the pool's settings, start many in batches, clean up a session. */
import { PoolError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ResolvedPoolConfig } from '../config/index.js';
import { Worker, type AttachedEndpoint, type SpawnedEndpoint, type WorkerOwner } from '../worker/worker.js';
import { pipelineDepth } from './capacity.js';
import type { ForkLauncher } from './fork-launcher.js';
import type { PoolOptions, PoolServices } from './pool-types.js';
import { traceSpawn } from '../telemetry/pool-events.js';

/** What starting one of a pool's workers takes. */
export interface PoolWorkerSpec {
  config: ResolvedPoolConfig;
  services: PoolServices;
  /** Calls one worker runs at once (`workerCapacity(config)`). */
  capacity: number;
  owner: WorkerOwner;
  /** `startMode: 'fork'`: forks spawned workers from the pool's template while it can. */
  forks?: ForkLauncher | undefined;
}

/** Spawns, forks or attaches to worker `id` and resolves once it is ready. */
export function startPoolWorker(spec: PoolWorkerSpec, id: string, endpoint: SpawnedEndpoint | AttachedEndpoint): Promise<Worker> {
  const { config, services } = spec;
  return traceSpawn(config.name, id, async () =>
    Worker.start({
      id,
      endpoint,
      child: endpoint.kind === 'spawn' ? await spec.forks?.launch(id, spec.capacity) : undefined,
      startupTimeoutMs: config.poolStartupTimeoutMs,
      pool: config.name,
      capacity: spec.capacity,
      pipelineDepth: pipelineDepth(config),
      pipelineStallMs: config.pipelineStallMs,
      logger: services.logger,
      hostRequests: services.hostRequests,
      hostServer: config.transport === 'grpc' ? services.hostServer : undefined,
      heartbeat: config.heartbeat,
      owner: spec.owner,
    }),
  );
}

/**
 * Runs `spawn(slot)` for slots 0..size-1, `batchSize` at a time with `delayMs` between batches;
 * rejects with the first failure, or when `stillStarting()` turns false between batches.
 */
export async function startInBatches(
  size: number,
  batchSize: number,
  delayMs: number,
  spawn: (slot: number) => Promise<unknown>,
  stillStarting: () => boolean,
  stoppedError: () => Error,
): Promise<void> {
  for (let started = 0; started < size; started += batchSize) {
    if (started > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (!stillStarting()) throw stoppedError();
    const batch = Math.min(batchSize, size - started);
    const results = await Promise.allSettled(Array.from({ length: batch }, (_, i) => spawn(started + i)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }
}

/** Runs the adapter's `cleanup_session` on those of `workers` named in `workerIds`; failures are logged, never thrown. */
export async function cleanupSessionOn(workers: readonly Worker[], sessionId: string, workerIds: Iterable<string>, logger: Logger): Promise<void> {
  const ids = new Set(workerIds);
  await Promise.all(
    workers
      .filter((w) => ids.has(w.id))
      .map((w) =>
        w.cleanupSession(sessionId).catch((error: unknown) => {
          logger.warn(`cleanup_session(${sessionId}) failed on ${w.id}: ${(error as Error).message}`, { pool: w.pool, workerId: w.id });
        }),
      ),
  );
}

/** Where a pool's workers come from: the spawn template (forked by the pool's `ForkLauncher` with `startMode: 'fork'`), or the attached addresses no worker holds. */
export class Endpoints {
  readonly #inUse = new Set<string>();

  constructor(
    readonly source: Exclude<PoolOptions['endpoints'], { kind: 'discover' }>,
    readonly pool: string,
  ) {}

  /** The endpoint for the next worker (whatever its slot); an attached address is held until `release`. */
  take(_slot?: number): SpawnedEndpoint | AttachedEndpoint {
    if (this.source.kind === 'spawn') return this.source.template;
    const free = this.source.workers.find((w) => !this.#inUse.has(w.address));
    if (!free) throw new PoolError(`Pool ${this.pool} has no free attached worker slot`, 'pool_saturated', { pool: this.pool });
    this.#inUse.add(free.address);
    return free;
  }

  /** Its worker failed to start or is gone. */
  release(endpoint: SpawnedEndpoint | AttachedEndpoint): void {
    if (endpoint.kind === 'attach') this.#inUse.delete(endpoint.address);
  }
}
