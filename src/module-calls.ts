/** Module-level calls on the default instance (set by `snakepit run` or the first `Snakepit.start()`). */
import type { HostToolFn, RegisterToolOptions } from './host-tools/host-tool.js';
import type { Session } from './session/session.js';
import { getDefaultInstance, type ChunkInfo, type ExecuteOptions } from './snakepit.js';

/** `execute` on the default instance. */
export function execute<T = unknown>(tool: string, args: Record<string, unknown> = {}, options: ExecuteOptions = {}): Promise<T> {
  return getDefaultInstance().execute<T>(tool, args, options);
}

/** `stream` on the default instance. */
export function stream<T = unknown>(tool: string, args: Record<string, unknown> = {}, options: ExecuteOptions = {}): AsyncIterableIterator<T> {
  return getDefaultInstance().stream<T>(tool, args, options);
}

/** `executeStream` on the default instance. */
export function executeStream<T = unknown>(tool: string, args: Record<string, unknown>, onChunk: (chunk: T, info: ChunkInfo) => void, options: ExecuteOptions = {}): Promise<void> {
  return getDefaultInstance().executeStream<T>(tool, args, onChunk, options);
}

/** `session` on the default instance. */
export function session(sessionId: string, options: { pool?: string; ttlMs?: number; metadata?: Record<string, unknown> } = {}): Session {
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
