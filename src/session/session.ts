/** A session: calls that share `session_context.session_id` and stick to one worker. */
import type { ChunkInfo, ExecuteOptions, Snakepit } from '../snakepit.js';

/** Options of a call made through a session (the session id and pool are fixed). */
export type SessionCallOptions = Omit<ExecuteOptions, 'sessionId' | 'pool'>;

/** Created by `sp.session(id)`. Affinity follows the pool's `affinity` mode. */
export class Session {
  constructor(
    private readonly sp: Snakepit,
    readonly id: string,
    readonly pool: string | undefined,
  ) {}

  /** Runs a tool in this session. */
  execute<T = unknown>(tool: string, args: Record<string, unknown> = {}, options: SessionCallOptions = {}): Promise<T> {
    return this.sp.execute<T>(tool, args, this.#options(options));
  }

  /** Streams a tool's chunks in this session. */
  stream<T = unknown>(tool: string, args: Record<string, unknown> = {}, options: SessionCallOptions = {}): AsyncIterableIterator<T> {
    return this.sp.stream<T>(tool, args, this.#options(options));
  }

  /** Streams with a callback, in this session. */
  executeStream<T = unknown>(tool: string, args: Record<string, unknown>, onChunk: (chunk: T, info: ChunkInfo) => void, options: SessionCallOptions = {}): Promise<void> {
    return this.sp.executeStream<T>(tool, args, onChunk, this.#options(options));
  }

  /** The id of the worker this session is bound to, if it has run a call. */
  get workerId(): string | undefined {
    return this.sp.pool(this.pool).sessionWorker(this.id);
  }

  /** Drops the worker binding; the next call may go to any worker. */
  release(): void {
    this.sp.pool(this.pool).releaseSession(this.id);
  }

  #options(options: SessionCallOptions): ExecuteOptions {
    return { ...options, sessionId: this.id, ...(this.pool === undefined ? {} : { pool: this.pool }) };
  }
}
