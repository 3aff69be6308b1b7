/**
 * What one running instance owns besides its config: the logger, the pools, the session hub, the
 * gRPC host endpoint and the control endpoint; set up in order at start, torn down in order at stop.
 */
import type { ResolvedConfig } from './config/index.js';
import { ControlServer, type ControlEndpointInfo, type ControlSource } from './control/server.js';
import { Logger, pinoSink, resolveLogLevels } from './logger.js';
import { setTelemetryLogger } from './telemetry/bus.js';
import { Pool } from './pool/pool.js';
import { buildPoolOptions, type PoolContext } from './pool/pool-options.js';
import { closeRegistry, ownRunIds, type OpenRun } from './process/live-processes.js';
import { traceReap } from './telemetry/cleanup-events.js';
import { reapDeadRuns, type ReapReport } from './process/reaper.js';
import { GrpcHostResources } from './transport/grpc/host-resources.js';
import { pidAlive, sweepShm } from './transport/shm.js';
import { loadArrow } from './transport/arrow.js';
import { startObserved, stopObserved } from './telemetry/pool-events.js';
import { forwardSessionAffinity, forwardSessionEvents, stopSessionEvents } from './telemetry/session-events.js';
import { observeCall } from './telemetry/call-events.js';
import { assertPythonExecutable } from './python/runtime.js';
import { SessionHub } from './session/session-hub.js';
import type { StartOptions } from './snakepit.js';

/** The parts of `StartOptions` the resources use. */
export type ResourceOptions = Pick<StartOptions, 'cwd' | 'logSink' | 'logger' | 'logCategories'>;

export class InstanceResources {
  readonly logger: Logger;
  readonly pools = new Map<string, Pool>();
  readonly hub: SessionHub;
  readonly #config: ResolvedConfig;
  readonly #runId: string;
  readonly #cwd: string | undefined;
  #grpc: GrpcHostResources | undefined;
  #sweep: ReapReport | undefined;
  #control: ControlServer | undefined;

  constructor(config: ResolvedConfig, options: ResourceOptions, run: OpenRun) {
    this.#config = config;
    this.#runId = run.runId;
    this.#cwd = options.cwd;
    const levels = resolveLogLevels(config.logLevel, config.logCategories, options.logCategories);
    this.logger = new Logger(levels.level, options.logSink ?? (options.logger ? pinoSink(options.logger) : undefined), {}, levels.categories);
    // Handlers that throw are reported to the latest instance's logger.
    setTelemetryLogger(this.logger);
    if (run.registryError) this.logger.warn(`Worker registry disabled (orphans of a crash will not be reaped): ${run.registryError.message}`);
    this.hub = new SessionHub({
      sessionTtlMs: config.sessionTtlMs,
      sessionCleanupIntervalMs: config.sessionCleanupIntervalMs,
      hostToolTimeoutMs: config.hostToolTimeoutMs,
      logger: this.logger,
      pools: () => this.pools,
    });
  }

  /** What the start-up sweep for dead runs' workers did (undefined when `rogueCleanup` is off). */
  get startupSweep(): ReapReport | undefined {
    return this.#sweep;
  }

  /** Where the control endpoint listens; undefined when `controlEndpoint: false` (or not started yet). */
  get controlEndpoint(): ControlEndpointInfo | undefined {
    return this.#control?.info;
  }

  /**
   * Reaps dead runs' workers (when enabled), then host endpoint (for gRPC pools), pools, workers,
   * and last the control endpoint, which serves `facade`.
   */
  async start(facade: ControlSource): Promise<void> {
    const config = this.#config;
    // A missing interpreter would otherwise surface as every worker failing to start with no output.
    for (const pool of config.pools) if (!pool.workers) assertPythonExecutable(pool.pythonExecutable, this.#cwd ?? process.cwd(), pool.adapterEnv.PATH);
    // The optional apache-arrow is ESM: loaded here, while the sweep runs, so the codec can decode Arrow tables synchronously.
    const arrow = loadArrow();
    if (config.rogueCleanup.enabled) this.#sweep = await traceReap('startup', () => reapDeadRuns({ logger: this.logger.child({ category: 'lifecycle' }), protectedRunIds: ownRunIds() }));
    // Shared-memory files of a crashed host or worker: their creator (pid in the name) is gone.
    const own = new Set(ownRunIds());
    sweepShm((runId, pid) => !own.has(runId) && !pidAlive(pid));
    if (config.pools.some((p) => p.transport === 'grpc')) {
      this.#grpc = await GrpcHostResources.create({ runId: this.#runId, config, logger: this.logger });
    }
    this.hub.start();
    await arrow; // before workers spawn: their env says whether the host can take Arrow tables
    const context: PoolContext = {
      runId: this.#runId,
      cwd: this.#cwd ?? process.cwd(),
      logger: this.logger,
      grpc: this.#grpc?.poolContext,
      services: {
        hostRequests: this.hub.hostRequests,
        hostServer: this.#grpc?.server,
        onSessionDispatch: this.hub.onSessionDispatch,
        onSessionRestoreLost: this.hub.onSessionRestoreLost,
        observeCall,
      },
      circuitBreaker: config.circuitBreaker,
      hostToolTimeoutMs: config.hostToolTimeoutMs,
      dataPlane: { zeroCopy: config.zeroCopy, maxPayloadBytes: config.maxPayloadBytes, serialization: config.serialization },
    };
    // A `python` category level is also what Python logs at (its SNAKEPIT_LOG_LEVEL): Python would
    // otherwise drop below the pool's `logLevel` what the host was told to show.
    const pythonLevel = this.logger.categoryLevels().python;
    for (const pool of config.pools) {
      const own = pythonLevel === undefined ? pool : { ...pool, logLevel: pythonLevel === 'warning' ? 'warn' : pythonLevel };
      this.pools.set(pool.name, new Pool(buildPoolOptions(own, context)));
    }
    forwardSessionEvents(this.hub.store);
    for (const p of this.pools.values()) forwardSessionAffinity(this.hub.store, p);
    const statusIntervalMs = config.poolStatusIntervalMs;
    await Promise.all(config.pools.map((p) => startObserved(this.pools.get(p.name)!, { statusIntervalMs, memoryThresholdMb: p.memoryThresholdMb })));
    if (config.controlEndpoint) this.#control = await ControlServer.start(facade, { port: config.controlPort });
  }

  /** Control endpoint, sessions, pools (`timeoutMs` overrides their graceful timeout), gRPC endpoint, then this run's leftovers. */
  async stop(timeoutMs: number | undefined): Promise<void> {
    await this.#control?.stop();
    await this.hub.stop();
    stopSessionEvents(this.hub.store);
    for (const p of this.pools.values()) stopObserved(p);
    await Promise.all([...this.pools.values()].map((p) => p.stop(timeoutMs)));
    await this.#grpc?.stop();
    // Workers are gone: any shm file of this run left (a worker's unread result) is garbage.
    sweepShm((runId) => runId === this.#runId);
    closeRegistry(this.#runId);
  }
}
