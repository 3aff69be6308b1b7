/** The public facade: pools from config, calls, streams, sessions, stats, stop. */
import { loadConfig, resolveConfig, type ResolvedConfig, type SnakepitConfigInput } from './config/index.js';
import { CANCEL_GRACE_MS_DEFAULT } from './config/schema.js';
import type { ControlEndpointInfo } from './control/server.js';
import type { PoolStats, WorkerInfo } from './pool/pool.js';
import type { RecycleOutcome } from './pool/lifecycle.js';
import type { ResizeOutcome } from './pool/resizer.js';
import type { InstanceHealth, PoolHealth } from './pool/health.js';
import type { StreamCallOptions } from './pool/task.js';
import { MapRun } from './pool/map.js';
import type { MapCallOptions, SettleMapOptions } from './pool/map-options.js';
import { liveProcessIds, openRun, ownRunIds, type OpenRun } from './process/live-processes.js';
import { traceCleanup, traceReap } from './telemetry/cleanup-events.js';
import { killLeftovers, reapDeadRuns, type ReapOptions, type ReapReport } from './process/reaper.js';
import { setSignalHandling } from './process/signals.js';
import { runScriptMode, SCRIPT_DEFAULTS, stopBounded, untilAborted, type CleanupResult } from './script-mode.js';
import { shmAvailable } from './transport/shm.js';
import { emit } from './telemetry/bus.js';
import { ZeroCopyRef } from './transport/codec.js';
import type { Tensor } from './tensor.js';
import type { HostToolFn, HostToolSpec, RegisterToolOptions } from './host-tools/host-tool.js';
import { Session, type SessionOptions } from './session/session.js';
import type { SessionStore } from './session/session-store.js';
import { InstanceResources } from './instance-resources.js';
import { adoptAsDefault, runningInstances, trackInstance, untrackInstance } from './default-instance.js';
import { ChunkChannel } from './stream-iterator.js';
import { rethrowWithCallerStack, withCallerStack } from './caller-stack.js';
import type { PoolHandle } from './pool-handle.js';
import { PoolDirectory } from './pool-directory.js';
import { StreamFlow } from './transport/stream-flow.js';
import type { ToolSpec } from './transport/types.js';
import { PythonWatcher } from './watch/python-watcher.js';
import type { ChunkInfo, ExecuteOptions, RunAsScriptOptions, StartOptions } from './facade-options.js';
import type { CallChunk, CallRest, CallResult, DefaultPool, PoolName, PoolOptions, ResultFromGeneratedTypes, ResultTypeArgument, ToolArgs, ToolName } from './typed/registry.js';

export { getDefaultInstance, setDefaultInstance } from './default-instance.js';

export type { ChunkInfo, ExecuteOptions, RunAsScriptOptions, StartOptions };

/** Grace for a cancelled call to stop in Python before its worker is killed and replaced. */
export const DEFAULT_CANCEL_GRACE_MS = CANCEL_GRACE_MS_DEFAULT;

/** A running set of pools. Create with `Snakepit.start()`; always `stop()` it. */
export class Snakepit {
  /** This instance's run id: on every worker's command line, for orphan reaping. */
  readonly runId: string;
  readonly config: ResolvedConfig;
  readonly #resources: InstanceResources;
  readonly #pools: PoolDirectory;
  readonly #options: StartOptions;
  #stopping: Promise<void> | undefined;
  #watcher: PythonWatcher | undefined;

  private constructor(config: ResolvedConfig, options: StartOptions, run: OpenRun) {
    this.config = config;
    this.runId = run.runId;
    this.#options = options;
    this.#resources = new InstanceResources(config, options, run);
    this.#pools = new PoolDirectory(this.#resources.pools);
  }

  /**
   * Starts every pool and waits until all workers are ready. Without `config`, loads
   * `snakepit.config.{ts,mjs,js,json}` from the cwd (or uses the defaults).
   * Rejects fast, with the Python traceback, if an adapter cannot be imported.
   * The first instance started becomes the module-level default.
   */
  static async start(config?: SnakepitConfigInput, options: StartOptions = {}): Promise<Snakepit> {
    const resolved =
      config === undefined
        ? (await loadConfig({ cwd: options.cwd, file: options.configFile })).config
        : resolveConfig(config);
    options.signal?.throwIfAborted();
    const instance = new Snakepit(resolved, options, openRun());
    trackInstance(instance);
    syncSignalHandling();
    try {
      await untilAborted(instance.#resources.start(instance), options.signal);
    } catch (error) {
      await instance.stop();
      // A worker still in its handshake when the start was abandoned is not in its pool yet.
      await killLeftovers(liveProcessIds(instance.runId), 1_000);
      throw error;
    }
    adoptAsDefault(instance);
    if (options.watch) instance.#watcher = new PythonWatcher(instance, options.cwd ?? process.cwd(), options.watch === true ? {} : options.watch);
    return instance;
  }

  /**
   * Script mode (the original's `run_as_script`): starts an instance (waiting at most `timeoutMs`,
   * default 15000), runs `fn` with it, and always stops it — also when `fn` throws — waiting at most
   * `shutdownTimeoutMs` (15000) for the stop, then giving workers still alive `cleanupTimeoutMs`
   * (5000) before SIGKILL. Resolves with `fn`'s result or rejects with its error; with `halt`
   * (default false, or `SNAKEPIT_SCRIPT_HALT=true`) exits the process instead, 0 or 1.
   * `scriptTimeoutMs` (no default) bounds `fn` itself.
   */
  static runAsScript<T>(fn: (sp: Snakepit) => Promise<T> | T, options: RunAsScriptOptions = {}): Promise<T> {
    return runScriptMode((signal) => Snakepit.start(options.config, { ...options, signal: options.signal ? AbortSignal.any([options.signal, signal]) : signal }), fn, options);
  }

  /**
   * Stops every instance running in this process (workers get SIGTERM, then SIGKILL after
   * `gracefulShutdownTimeoutMs` or the given `timeoutMs`), waits at most `shutdownTimeoutMs`
   * (default 15000), then gives any worker still alive `cleanupTimeoutMs` (5000) before SIGKILL.
   * Resolves with what it did: `{ stopped, killed, resisted }` (killed: pids that needed SIGKILL;
   * resisted: pids alive even after it).
   */
  static cleanup(options: { timeoutMs?: number; shutdownTimeoutMs?: number; cleanupTimeoutMs?: number } = {}): Promise<CleanupResult> {
    return traceCleanup(() =>
      stopBounded(runningInstances(), {
        gracefulTimeoutMs: options.timeoutMs,
        shutdownTimeoutMs: options.shutdownTimeoutMs ?? SCRIPT_DEFAULTS.shutdownTimeoutMs,
        cleanupTimeoutMs: options.cleanupTimeoutMs ?? SCRIPT_DEFAULTS.cleanupTimeoutMs,
        allWorkers: true,
      }),
    );
  }

  /**
   * Stops the workers that dead runs (crashed or SIGKILLed hosts) left behind, as every start does
   * when `rogueCleanup.enabled`: SIGTERM, SIGKILL after `graceMs` (2000). See the README's "No orphans".
   */
  static reapOrphans(options: Pick<ReapOptions, 'graceMs' | 'killWaitMs'> = {}): Promise<ReapReport> {
    return traceReap('manual', () => reapDeadRuns({ ...options, protectedRunIds: ownRunIds() }));
  }

  /**
   * Puts `value` in shared memory once, to pass the returned ref as an argument (anywhere in `args`)
   * to many calls without writing it again; Python gets it as for an automatic transfer (`bytes`, or
   * an ndarray over the mapping). Close it with `ref.close()`; `stop()` removes what is left. Without
   * `zeroCopy.enabled` or a writable `/dev/shm` it falls back to a copy in memory (`ref.copy`, event
   * `snakepit.zero_copy.fallback`), sent inline, as is any ref sent to an attached worker.
   * @example const w = sp.zeroCopy(weights); try { await Promise.all(xs.map((x) => sp.execute('apply', { w, x }))); } finally { w.close(); }
   */
  zeroCopy(value: Uint8Array | Tensor): ZeroCopyRef {
    let reason = !this.config.zeroCopy.enabled ? 'disabled' : !shmAvailable() ? 'no_shm' : undefined;
    if (reason === undefined) {
      try {
        return ZeroCopyRef.export(this.runId, value);
      } catch (error) {
        reason = (error as NodeJS.ErrnoException).code ?? 'export_failed'; // /dev/shm full or not writable
      }
    }
    const ref = ZeroCopyRef.copy(value);
    emit('snakepit.zero_copy.fallback', { bytes: ref.size }, { reason });
    return ref;
  }

  /** What the start-up sweep for dead runs' workers did (undefined when `rogueCleanup` is off). */
  get startupSweep(): ReapReport | undefined {
    return this.#resources.startupSweep;
  }

  /** Where the control endpoint (`snakepit status`, `/metrics`) listens; undefined when `controlEndpoint: false`. */
  get controlEndpoint(): ControlEndpointInfo | undefined {
    return this.#resources.controlEndpoint;
  }

  /** Whether this instance asked for SIGINT/SIGTERM handling. */
  get handlesSignals(): boolean {
    return this.#options.handleSignals !== false;
  }

  /** The Python source watcher of the `watch` start option (events `change`, `reloaded`, `types`, `failed`). */
  get watcher(): PythonWatcher | undefined {
    return this.#watcher;
  }

  /** Names of the pools. */
  get poolNames(): string[] {
    return this.#pools.names;
  }

  /** Resolves once the pool has all its workers ready. @default pool 'default' (or the only pool), timeoutMs 15000 */
  awaitReady(pool?: string, timeoutMs = 15_000): Promise<void> {
    return this.#pools.get(pool).awaitReady(timeoutMs);
  }

  /**
   * Runs a Python tool and resolves with what it returned.
   * @example await sp.execute('add', { a: 10, b: 25 }) // { result: 35, ... }
   */
  execute<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(tool: K, ...rest: CallRest<P, K, PoolOptions<P, ExecuteOptions>>): Promise<CallResult<T, P, K>>;
  execute(tool: string, args: Record<string, unknown> = {}, options: ExecuteOptions = {}): Promise<unknown> {
    try {
      // Not an async method: its frame and promises cost ~500 B per call; the rejection handler
      // still runs in the caller's async chain (caller-stack.ts).
      return this.#pools.get(options.pool).execute(tool, args, options).then(undefined, rethrowWithCallerStack);
    } catch (error) {
      return Promise.reject(withCallerStack(error, new Error())); // no such pool: the caller's stack is the one here
    }
  }

  /**
   * Runs a streaming tool; yields each chunk as Python produces it. Leaving the loop early
   * cancels the call in Python. Chunks the loop has not taken yet wait on the host; once the
   * pool's `streamHighWaterMark` (default 64) wait, Python's generator pauses before its next
   * item until the loop has taken half of them.
   * @example for await (const chunk of sp.stream('stream_progress', { steps: 5 })) console.log(chunk)
   */
  stream<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(tool: K, ...rest: CallRest<P, K, PoolOptions<P, ExecuteOptions>>): AsyncIterableIterator<CallChunk<T, P, K>>;
  stream(tool: string, args: Record<string, unknown> = {}, options: ExecuteOptions = {}): AsyncIterableIterator<unknown> {
    const abandon = new AbortController();
    const pool = this.#pools.find(options.pool);
    const flow = pool ? new StreamFlow(pool.config.streamHighWaterMark) : undefined;
    const channel = new ChunkChannel<unknown>(() => abandon.abort(new Error('stream consumer stopped')), flow);
    const signal = options.signal ? AbortSignal.any([options.signal, abandon.signal]) : abandon.signal;
    // Not a spread: on Node 20 fields added to a spread's copy cost ~0.5 µs each (object-copy.ts).
    const streamOptions: StreamCallOptions = Object.assign({}, options, { signal, flow });
    Promise.resolve()
      .then(() => this.#pools.get(options.pool).stream(tool, args, streamOptions, (data) => channel.push(data)))
      .finally(() => flow?.hold(false))
      .then(
        () => channel.end(),
        (error: unknown) => channel.end(error),
      );
    return channel;
  }

  /** Runs a streaming tool, calling `onChunk` for each chunk; resolves after the last one. */
  executeStream<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(
    tool: K,
    args: ToolArgs<P, K>,
    onChunk: (chunk: CallChunk<T, P, K>, info: ChunkInfo) => void,
    options?: PoolOptions<P, ExecuteOptions>,
  ): Promise<void>;
  async executeStream(tool: string, args: Record<string, unknown>, onChunk: (chunk: unknown, info: ChunkInfo) => void, options: ExecuteOptions = {}): Promise<void> {
    try {
      await this.#pools.get(options.pool).stream(tool, args, options, (data, final, metadata) => onChunk(data, metadata ? { final, metadata } : { final }));
    } catch (error) {
      throw withCallerStack(error, new Error());
    }
  }

  /**
   * Runs `tool` once per input, batched: inputs go to Python in chunks (one call each, run back to back
   * there) and the results come back in input order. `mode: 'settle'` resolves with a
   * `PromiseSettledResult` per input instead of rejecting at the first failure (guides/map.md).
   * @example const squares = await sp.map('square', [{ x: 1 }, { x: 2 }]) // [1, 4]
   */
  map<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(tool: K, inputs: Iterable<ToolArgs<P, K>>, options: PoolOptions<P, SettleMapOptions>): Promise<PromiseSettledResult<CallResult<T, P, K>>[]>;
  map<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(tool: K, inputs: Iterable<ToolArgs<P, K>>, options?: PoolOptions<P, MapCallOptions>): Promise<CallResult<T, P, K>[]>;
  async map(tool: string, inputs: Iterable<Record<string, unknown>>, options: MapCallOptions = {}): Promise<unknown[]> {
    try {
      return await new MapRun(this.#pools.get(options.pool), tool, inputs, options).all();
    } catch (error) {
      throw withCallerStack(error, new Error());
    }
  }

  /**
   * `map` as an async iterable: yields each result in input order as soon as it and those before it
   * are in; chunks go out only as far ahead as the loop has taken. Leaving the loop cancels the rest.
   * @example for await (const square of sp.mapIterable('square', inputs)) console.log(square)
   */
  mapIterable<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(tool: K, inputs: Iterable<ToolArgs<P, K>>, options: PoolOptions<P, SettleMapOptions>): AsyncIterableIterator<PromiseSettledResult<CallResult<T, P, K>>>;
  mapIterable<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(tool: K, inputs: Iterable<ToolArgs<P, K>>, options?: PoolOptions<P, MapCallOptions>): AsyncIterableIterator<CallResult<T, P, K>>;
  mapIterable(tool: string, inputs: Iterable<Record<string, unknown>>, options: MapCallOptions = {}): AsyncIterableIterator<unknown> {
    return new MapRun(this.#pools.get(options.pool), tool, inputs, options).iterate();
  }

  /**
   * A handle whose calls share worker affinity, `session_context.session_id`, session state and
   * session host tools. Creates the session on the host if it does not exist.
   * @param options.ttlMs idle time before the session expires @default config `sessionTtlMs` (1 h)
   */
  session<P extends PoolName = DefaultPool>(sessionId: string, options?: PoolOptions<P, SessionOptions>): Session<P>;
  session(sessionId: string, options: SessionOptions = {}): Session {
    return new Session(this, sessionId, options.pool, this.#resources.hub.backend(sessionId, options));
  }

  /** The host's sessions: list, stats, expiry sweep, per-session info. */
  get sessions(): SessionStore {
    return this.#resources.hub.store;
  }

  /**
   * Registers a global host tool. With `exposedToPython: true` (default false) every session's
   * Python code may call it (`session_context.call_host_tool(name, ...)`); arguments are checked
   * against `parameters` (the original's list, or a zod schema) before `fn` runs.
   */
  registerTool<A extends Record<string, unknown> = Record<string, unknown>>(name: string, fn: HostToolFn<A>, options: RegisterToolOptions = {}): this {
    this.#resources.hub.registry.register(name, fn as HostToolFn, options);
    return this;
  }

  /** Removes a global host tool; false when there was none. */
  unregisterTool(name: string): boolean {
    return this.#resources.hub.registry.unregister(name);
  }

  /** Host tools visible to a session (or the global ones), exposed to Python or not. */
  hostTools(sessionId?: string): HostToolSpec[] {
    return this.#resources.hub.registry.list(sessionId).map((t) => t.spec());
  }

  /** Python tools of a pool, as its workers reported them (same as `tools()`). */
  listTools(pool?: string): ToolSpec[] {
    return this.#pools.get(pool).tools();
  }

  /** One Python tool's spec; an unknown name throws `unknown_tool` listing the available ones. */
  describeTool(pool: string | undefined, name: string): ToolSpec {
    return this.#pools.get(pool).describeTool(name);
  }

  /** Counters of one pool, or summed over all pools. */
  stats(pool?: string): PoolStats {
    return this.#pools.stats(pool);
  }

  /**
   * Health of one pool (`healthy` | `degraded` | `unhealthy`, crash and restart counts, the last
   * failure with Python's stderr or traceback), or of all pools combined (worst status) with
   * `pools` per name.
   */
  health(pool: string): PoolHealth;
  health(): InstanceHealth;
  health(pool?: string): PoolHealth | InstanceHealth {
    return this.#pools.health(pool);
  }

  /**
   * Replaces a worker by a fresh one without failing a call (the old one drains, the new one is
   * ready before the old one stops). Resolves once that is done, with `{ workerId, replacementId,
   * reason }`. A worker already being recycled (e.g. it reached `workerMaxRequests`) is not
   * recycled twice: the call waits for that recycle and settles with its outcome (its `reason`, not
   * `'manual'`; a failed replacement rejects). An unknown id (or a worker already gone) rejects
   * with `unknown_worker` (listing the pool's workers); attached workers cannot be recycled.
   */
  recycleWorker(pool: string, workerId: string): Promise<RecycleOutcome> {
    try {
      return this.#pools.get(pool).recycleWorker(workerId);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * Grows or shrinks a pool of spawned workers to `size` slots while it serves. New workers start in
   * batches as at start-up; removed ones (slots waiting for a replacement first, then the least busy
   * workers) take no new call, finish theirs, then stop: no call is lost. Resolves once done with
   * `{ pool, from, to, added, removed }`; resizes of a pool run one after another; slots the crash
   * barrier removed are forgotten. A worker that cannot start rejects with its error (the workers
   * started stay). Attached and discovered pools reject with `pool_not_resizable`. One worker more or
   * less: `sp.pool(name).addWorker()` / `.removeWorker(id)`.
   * @example await sp.resize('default', 8)
   */
  resize(pool: string, size: number): Promise<ResizeOutcome> {
    try {
      return this.#pools.get(pool).resizer.resize(size);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Worker snapshots of one pool, or of all pools. */
  listWorkers(pool?: string): WorkerInfo[] {
    return this.#pools.listWorkers(pool);
  }

  /** Tools the pool's adapter exposes. */
  tools(pool?: string): ToolSpec[] {
    return this.#pools.get(pool).tools();
  }

  /** A pool's events, counters, health, workers, tools and session bindings. @default pool 'default' (or the only pool) */
  pool(name?: string): PoolHandle {
    return this.#pools.handle(name);
  }

  /**
   * Stops all pools: queued calls fail with `pool_stopped`, workers get SIGTERM then SIGKILL
   * after each pool's `gracefulShutdownTimeoutMs` (or `timeoutMs` when given).
   */
  stop(options: { timeoutMs?: number | undefined } = {}): Promise<void> {
    this.#watcher?.close();
    this.#stopping ??= (async () => {
      await this.#resources.stop(options.timeoutMs);
      untrackInstance(this);
      syncSignalHandling();
    })();
    return this.#stopping;
  }
}

/** Signal handlers are on while an instance that wants them runs (see `StartOptions.handleSignals`). */
function syncSignalHandling(): void {
  const wanted = runningInstances().some((sp) => sp.handlesSignals);
  setSignalHandling(wanted, () => Snakepit.cleanup());
}
