/** Module-level calls on the default instance (set by `snakepit run` or the first `Snakepit.start()`). */
import type { HostToolFn, RegisterToolOptions } from './host-tools/host-tool.js';
import type { MapCallOptions, SettleMapOptions } from './pool/map-options.js';
import type { Session, SessionOptions } from './session/session.js';
import { getDefaultInstance, type ChunkInfo, type ExecuteOptions } from './snakepit.js';
import type { CallChunk, CallRest, CallResult, DefaultPool, PoolName, PoolOptions, ResultFromGeneratedTypes, ResultTypeArgument, ToolArgs, ToolName } from './typed/registry.js';

/** `execute` on the default instance. */
export function execute<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(
  tool: K,
  ...rest: CallRest<P, K, PoolOptions<P, ExecuteOptions>>
): Promise<CallResult<T, P, K>>;
export function execute(tool: string, args?: Record<string, unknown>, options?: ExecuteOptions): Promise<unknown> {
  return getDefaultInstance().execute(tool, args, options);
}

/** `stream` on the default instance. */
export function stream<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(
  tool: K,
  ...rest: CallRest<P, K, PoolOptions<P, ExecuteOptions>>
): AsyncIterableIterator<CallChunk<T, P, K>>;
export function stream(tool: string, args?: Record<string, unknown>, options?: ExecuteOptions): AsyncIterableIterator<unknown> {
  return getDefaultInstance().stream(tool, args, options);
}

/** `executeStream` on the default instance. */
export function executeStream<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(
  tool: K,
  args: ToolArgs<P, K>,
  onChunk: (chunk: CallChunk<T, P, K>, info: ChunkInfo) => void,
  options?: PoolOptions<P, ExecuteOptions>,
): Promise<void>;
export function executeStream(tool: string, args: Record<string, unknown>, onChunk: (chunk: unknown, info: ChunkInfo) => void, options?: ExecuteOptions): Promise<void> {
  return getDefaultInstance().executeStream(tool, args, onChunk, options);
}

/** `map` on the default instance. */
export function map<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(
  tool: K,
  inputs: Iterable<ToolArgs<P, K>>,
  options: PoolOptions<P, SettleMapOptions>,
): Promise<PromiseSettledResult<CallResult<T, P, K>>[]>;
export function map<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(
  tool: K,
  inputs: Iterable<ToolArgs<P, K>>,
  options?: PoolOptions<P, MapCallOptions>,
): Promise<CallResult<T, P, K>[]>;
export function map(tool: string, inputs: Iterable<Record<string, unknown>>, options?: MapCallOptions): Promise<unknown[]> {
  return getDefaultInstance().map(tool, inputs, options);
}

/** `mapIterable` on the default instance. */
export function mapIterable<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(
  tool: K,
  inputs: Iterable<ToolArgs<P, K>>,
  options: PoolOptions<P, SettleMapOptions>,
): AsyncIterableIterator<PromiseSettledResult<CallResult<T, P, K>>>;
export function mapIterable<T extends ResultTypeArgument = ResultFromGeneratedTypes, P extends PoolName = DefaultPool, K extends ToolName<P> = ToolName<P>>(
  tool: K,
  inputs: Iterable<ToolArgs<P, K>>,
  options?: PoolOptions<P, MapCallOptions>,
): AsyncIterableIterator<CallResult<T, P, K>>;
export function mapIterable(tool: string, inputs: Iterable<Record<string, unknown>>, options?: MapCallOptions): AsyncIterableIterator<unknown> {
  return getDefaultInstance().mapIterable(tool, inputs, options);
}

/** `session` on the default instance. */
export function session<P extends PoolName = DefaultPool>(sessionId: string, options?: PoolOptions<P, SessionOptions>): Session<P>;
export function session(sessionId: string, options?: SessionOptions): Session {
  return getDefaultInstance().session(sessionId, options);
}

/** `registerTool` (a global host tool) on the default instance. */
export function registerTool<A extends Record<string, unknown> = Record<string, unknown>>(name: string, fn: HostToolFn<A>, options: RegisterToolOptions = {}): void {
  getDefaultInstance().registerTool(name, fn, options);
}

/** `stats` on the default instance. */
export function stats(pool?: string) {
  return getDefaultInstance().stats(pool);
}

/** `listWorkers` on the default instance. */
export function listWorkers(pool?: string) {
  return getDefaultInstance().listWorkers(pool);
}
