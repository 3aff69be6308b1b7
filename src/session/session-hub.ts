/**
 * The host side of sessions and host tools for one instance: the session store, the host tool
 * registry, the bridge that answers Python, and what happens when a session starts or ends.
 */
import { HostRequests } from '../host-tools/host-requests.js';
import type { HostTool, HostToolFn, RegisterToolOptions } from '../host-tools/host-tool.js';
import { ToolRegistry } from '../host-tools/tool-registry.js';
import type { Logger } from '../logger.js';
import type { Pool } from '../pool/pool.js';
import type { HostRequest } from '../transport/types.js';
import type { Worker } from '../worker/worker.js';
import { type SessionBackend } from './session.js';
import { SessionStore, type SessionEndReason, type SessionRecord } from './session-store.js';
import { sessionDispatched } from '../telemetry/session-events.js';

export interface SessionHubOptions {
  sessionTtlMs: number;
  sessionCleanupIntervalMs: number;
  hostToolTimeoutMs: number;
  logger: Logger;
  /** The instance's pools, by name (for `cleanup_session` on the workers that served a session). */
  pools: () => ReadonlyMap<string, Pool>;
}

export class SessionHub {
  readonly store: SessionStore;
  readonly registry: ToolRegistry;
  readonly #bridge: HostRequests;
  readonly #options: SessionHubOptions;
  /** Category `bridge`: host tools and the end of sessions (their tools, their cleanup). */
  readonly #logger: Logger;
  /** Sessions whose end is still running its `cleanup_session` hooks. */
  readonly #ending = new Map<string, Promise<void>>();

  constructor(options: SessionHubOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ category: 'bridge' });
    this.registry = new ToolRegistry(this.#logger);
    this.store = new SessionStore({ defaultTtlMs: options.sessionTtlMs, cleanupIntervalMs: options.sessionCleanupIntervalMs });
    this.#bridge = new HostRequests({ registry: this.registry, sessions: this.store, hostToolTimeoutMs: options.hostToolTimeoutMs, logger: this.#logger });
    this.store.on('session:ended', (record, reason) => {
      const ending = this.#onEnded(record, reason).finally(() => this.#ending.delete(record.id));
      this.#ending.set(record.id, ending);
    });
  }

  start(): void {
    this.store.start();
  }

  /** Stops the expiry sweep and waits for sessions still ending. */
  async stop(): Promise<void> {
    this.store.stop();
    await Promise.all(this.#ending.values());
  }

  /** For the pools: answers a worker's request to the host. */
  readonly hostRequests = (worker: Worker, request: HostRequest): Promise<unknown> => this.#bridge.handle(worker, request);

  /** For the pools: a session's call goes to `worker`; returns the state to restore there, if any. */
  readonly onSessionDispatch = (sessionId: string, worker: Worker): Record<string, unknown> | undefined => {
    const record = this.store.ensure(sessionId);
    sessionDispatched(record, worker);
    const firstTimeHere = this.store.recordDispatch(sessionId, worker.id, worker.pool);
    return firstTimeHere && record.state.size > 0 ? this.store.stateSnapshot(sessionId) : undefined;
  };

  /** For the pools: the call carrying a restore failed (maybe before it ran): restore again next time. */
  readonly onSessionRestoreLost = (sessionId: string, worker: Worker): void => {
    this.store.get(sessionId, { touch: false })?.servedBy.delete(worker.id);
  };

  /** The backend of a `Session` handle; creates the session if needed. */
  backend(sessionId: string, options: { ttlMs?: number | undefined; metadata?: Record<string, unknown> | undefined }): SessionBackend {
    const ensure = () => this.store.ensure(sessionId, options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs });
    const record = ensure();
    if (options.metadata) Object.assign(record.metadata, options.metadata);
    return {
      record: ensure,
      registerTool: (name: string, fn: HostToolFn, toolOptions: RegisterToolOptions): HostTool => {
        ensure();
        return this.registry.register(name, fn, toolOptions, sessionId);
      },
      unregisterTool: (name: string) => this.registry.unregister(name, sessionId),
      tools: () => this.registry.list(sessionId).map((t) => t.spec()),
      end: () => this.end(sessionId),
    };
  }

  /** Ends a session (if it exists) and resolves once its `cleanup_session` hooks ran. */
  async end(sessionId: string): Promise<void> {
    this.store.delete(sessionId);
    await this.#ending.get(sessionId);
  }

  async #onEnded(record: SessionRecord, reason: SessionEndReason): Promise<void> {
    const tools = this.registry.cleanupSession(record.id);
    const byPool = new Map<string, string[]>();
    for (const [workerId, pool] of record.servedBy) byPool.set(pool, [...(byPool.get(pool) ?? []), workerId]);
    const pools = this.#options.pools();
    await Promise.all(
      [...byPool].map(async ([name, workerIds]) => {
        const pool = pools.get(name);
        await pools.get(name)?.cleanupSession(record.id, workerIds);
      }),
    );
    for (const pool of pools.values()) pool.releaseSession(record.id);
    this.#logger.debug(`Session ${record.id} ${reason}: ${tools} host tool(s) dropped, cleanup_session run on ${record.servedBy.size} worker(s)`, {
      sessionId: record.id,
      reason,
      hostTools: tools,
      workers: record.servedBy.size,
    });
  }
}
