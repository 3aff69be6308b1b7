/** A session: calls that share `session_context.session_id`, stick to one worker, and own state and host tools. */
import type { HostTool, HostToolFn, HostToolSpec, RegisterToolOptions } from '../host-tools/host-tool.js';
import type { ChunkInfo, ExecuteOptions, Snakepit } from '../snakepit.js';
import type { MapCallOptions } from '../pool/map-options.js';
import type { SessionRecord } from './session-store.js';
import type { CallChunk, CallRest, CallResult, DefaultPool, ResultFromGeneratedTypes, ResultTypeArgument, ToolArgs, ToolName } from '../typed/registry.js';

/** Options of `sp.session(id, options)`. */
export interface SessionOptions {
  /** Pool whose workers serve the session. @default 'default' (or the only pool) */
  pool?: string;
  /** Idle time before the session expires, in ms. @default config `sessionTtlMs` (1 h) */
  ttlMs?: number;
  metadata?: Record<string, unknown>;
}

/** Options of a call made through a session (the session id and pool are fixed). */
export type SessionCallOptions = Omit<ExecuteOptions, 'sessionId' | 'pool'>;

/** Options of a map made through a session (the session id and pool are fixed). */
export type SessionMapOptions = Omit<MapCallOptions, 'sessionId' | 'pool'>;

/** What the facade gives a session handle: its record, and the registry scoped to it. */
export interface SessionBackend {
  record(): SessionRecord;
  registerTool(name: string, fn: HostToolFn, options: RegisterToolOptions): HostTool;
  unregisterTool(name: string): boolean;
  tools(): HostToolSpec[];
  end(): Promise<void>;
}

/**
 * The session's state on the host: what Python sees as `session_context.state`. It outlives the
 * workers that serve the session (a recycled or crashed worker's successor gets it back).
 */
export class SessionState {
  constructor(private readonly record: () => SessionRecord) {}

  get(key: string): unknown {
    return this.record().state.get(key);
  }

  set(key: string, value: unknown): this {
    this.record().state.set(key, value);
    return this;
  }

  has(key: string): boolean {
    return this.record().state.has(key);
  }

  delete(key: string): boolean {
    return this.record().state.delete(key);
  }

  clear(): void {
    this.record().state.clear();
  }

  /** A plain-object copy. */
  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.record().state);
  }
}

/** Created by `sp.session(id)`. Affinity follows the pool's `affinity` mode; `P` is its pool (for generated tool types). */
export class Session<P extends string = DefaultPool> {
  /** The session's state, shared with Python's `session_context.state`. */
  readonly state: SessionState;

  constructor(
    private readonly sp: Snakepit,
    readonly id: string,
    readonly pool: string | undefined,
    private readonly backend: SessionBackend,
  ) {
    this.state = new SessionState(() => backend.record());
  }

  /** Runs a tool in this session. */
  execute<T extends ResultTypeArgument = ResultFromGeneratedTypes, K extends ToolName<P> = ToolName<P>>(tool: K, ...rest: CallRest<P, K, SessionCallOptions>): Promise<CallResult<T, P, K>>;
  execute(tool: string, args: Record<string, unknown> = {}, options: SessionCallOptions = {}): Promise<unknown> {
    return this.sp.execute(tool, args, this.#options(options));
  }

  /** Streams a tool's chunks in this session. */
  stream<T extends ResultTypeArgument = ResultFromGeneratedTypes, K extends ToolName<P> = ToolName<P>>(tool: K, ...rest: CallRest<P, K, SessionCallOptions>): AsyncIterableIterator<CallChunk<T, P, K>>;
  stream(tool: string, args: Record<string, unknown> = {}, options: SessionCallOptions = {}): AsyncIterableIterator<unknown> {
    return this.sp.stream(tool, args, this.#options(options));
  }

  /** Streams with a callback, in this session. */
  executeStream<T extends ResultTypeArgument = ResultFromGeneratedTypes, K extends ToolName<P> = ToolName<P>>(
    tool: K,
    args: ToolArgs<P, K>,
    onChunk: (chunk: CallChunk<T, P, K>, info: ChunkInfo) => void,
    options?: SessionCallOptions,
  ): Promise<void>;
  executeStream(tool: string, args: Record<string, unknown>, onChunk: (chunk: unknown, info: ChunkInfo) => void, options: SessionCallOptions = {}): Promise<void> {
    return this.sp.executeStream(tool, args, onChunk, this.#options(options));
  }

  /** `sp.map` in this session: every chunk runs on the session's worker (guides/map.md). */
  map<T extends ResultTypeArgument = ResultFromGeneratedTypes, K extends ToolName<P> = ToolName<P>>(tool: K, inputs: Iterable<ToolArgs<P, K>>, options: SessionMapOptions & { mode: 'settle' }): Promise<PromiseSettledResult<CallResult<T, P, K>>[]>;
  map<T extends ResultTypeArgument = ResultFromGeneratedTypes, K extends ToolName<P> = ToolName<P>>(tool: K, inputs: Iterable<ToolArgs<P, K>>, options?: SessionMapOptions): Promise<CallResult<T, P, K>[]>;
  map(tool: string, inputs: Iterable<Record<string, unknown>>, options: SessionMapOptions = {}): Promise<unknown[]> {
    return this.sp.map(tool, inputs, this.#options(options));
  }

  /** `sp.mapIterable` in this session. */
  mapIterable<T extends ResultTypeArgument = ResultFromGeneratedTypes, K extends ToolName<P> = ToolName<P>>(tool: K, inputs: Iterable<ToolArgs<P, K>>, options: SessionMapOptions & { mode: 'settle' }): AsyncIterableIterator<PromiseSettledResult<CallResult<T, P, K>>>;
  mapIterable<T extends ResultTypeArgument = ResultFromGeneratedTypes, K extends ToolName<P> = ToolName<P>>(tool: K, inputs: Iterable<ToolArgs<P, K>>, options?: SessionMapOptions): AsyncIterableIterator<CallResult<T, P, K>>;
  mapIterable(tool: string, inputs: Iterable<Record<string, unknown>>, options: SessionMapOptions = {}): AsyncIterableIterator<unknown> {
    return this.sp.mapIterable(tool, inputs, this.#options(options));
  }

  /**
   * Registers a host tool of this session only. With `exposedToPython: true` (default false) the
   * session's Python calls may use it (`session_context.call_host_tool(name, ...)`); other
   * sessions never see it. It goes when the session ends.
   * @example s.registerTool('validate', ({ data }) => ({ valid: true }), { exposedToPython: true, parameters: [{ name: 'data', type: 'map', required: true }] })
   */
  registerTool<A extends Record<string, unknown> = Record<string, unknown>>(name: string, fn: HostToolFn<A>, options: RegisterToolOptions = {}): this {
    this.backend.registerTool(name, fn as HostToolFn, options);
    return this;
  }

  /** Removes one of this session's host tools; false when there was none. */
  unregisterTool(name: string): boolean {
    return this.backend.unregisterTool(name);
  }

  /** Host tools this session sees (its own and the global ones), exposed to Python or not. */
  tools(): HostToolSpec[] {
    return this.backend.tools();
  }

  /** Session metadata (the original's `Session.metadata`). */
  get metadata(): Record<string, unknown> {
    return this.backend.record().metadata;
  }

  /** Creation, last access, TTL, last worker, calls and host tool calls. */
  info(): { id: string; createdAt: number; lastAccessedAt: number; ttlMs: number; lastWorkerId: string | undefined; stats: SessionRecord['stats'] } {
    const r = this.backend.record();
    return { id: r.id, createdAt: r.createdAt, lastAccessedAt: r.lastAccessedAt, ttlMs: r.ttlMs, lastWorkerId: r.lastWorkerId, stats: { ...r.stats } };
  }

  /** The id of the worker this session is bound to, if it has run a call. */
  get workerId(): string | undefined {
    return this.sp.pool(this.pool).sessionWorker(this.id);
  }

  /** Drops the worker binding; the next call may go to any worker. */
  release(): void {
    this.sp.pool(this.pool).releaseSession(this.id);
  }

  /**
   * Ends the session: its state and host tools go, and the adapter's `cleanup_session` runs on
   * every live worker that served it. Resolves when those hooks have run.
   */
  end(): Promise<void> {
    return this.backend.end();
  }

  #options<O extends object>(options: O): O & { sessionId: string; pool?: string } {
    return { ...options, sessionId: this.id, ...(this.pool === undefined ? {} : { pool: this.pool }) };
  }
}
