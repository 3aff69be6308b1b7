/**
 * The host tools of one Snakepit instance: global ones and each session's own, and the one way
 * Python runs them (`invokeForPython`: visibility, argument checks, timeout, error mapping).
 * Logs under category `bridge`: registrations (debug), each call from Python (debug), and calls
 * that fail, time out or name an unknown tool (warn), with the Python call's correlation id.
 */
import { performance } from 'node:perf_hooks';
import { isSnakepitError, SnakepitError, TimeoutError, ValidationError } from '../errors.js';
import { Logger } from '../logger.js';
import { HostTool, type HostToolContext, type HostToolFn, type RegisterToolOptions } from './host-tool.js';

/** Where and how a tool runs on behalf of Python. */
export interface HostToolCallContext {
  /** The session of the Python call; undefined: only global tools are visible. */
  sessionId?: string;
  workerId?: string;
  pool?: string;
  /** The correlation id of the Python call on whose behalf the tool runs (for logs and the tool). */
  correlationId?: string | undefined;
  /** Used when the tool sets no `timeoutMs` of its own, in ms; `Infinity`: no limit. */
  timeoutMs: number;
  /** Aborts the tool (its context signal) and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** setTimeout's largest delay, in ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const byName = (a: HostTool, b: HostTool): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Host tools, global (no session) and per session; a session's own tool shadows a global one. */
export class ToolRegistry {
  readonly #global = new Map<string, HostTool>();
  readonly #sessions = new Map<string, Map<string, HostTool>>();
  readonly #logger: Logger;

  /** @param logger where the registry logs (category `bridge` is set here) @default nowhere */
  constructor(logger: Logger = new Logger('none')) {
    this.#logger = logger.child({ category: 'bridge' });
  }

  /**
   * Registers a global tool (`sessionId` undefined) or a session's own tool. A name already used
   * in the same scope: `ValidationError` code `duplicate_tool`, details `{ tool, sessionId }`.
   */
  register(name: string, fn: HostToolFn, options: RegisterToolOptions = {}, sessionId?: string): HostTool {
    const tool = new HostTool(name, fn, options, sessionId);
    const scope = sessionId === undefined ? this.#global : this.#sessionScope(sessionId);
    if (scope.has(name)) {
      const where = sessionId === undefined ? 'globally' : `in session ${sessionId}`;
      throw new ValidationError(`Host tool ${name} is already registered ${where}`, 'duplicate_tool', { tool: name, sessionId });
    }
    scope.set(name, tool);
    this.#logger.debug(`Registered host tool ${name} (${sessionId === undefined ? 'global' : `session ${sessionId}`}${tool.exposedToPython ? ', exposed to Python' : ''})`, {
      tool: name,
      ...(sessionId === undefined ? {} : { sessionId }),
      exposedToPython: tool.exposedToPython,
    });
    return tool;
  }

  /** Removes a tool from one scope (global when `sessionId` is undefined); returns whether it existed. */
  unregister(name: string, sessionId?: string): boolean {
    const scope = sessionId === undefined ? this.#global : this.#sessions.get(sessionId);
    if (!scope?.delete(name)) return false;
    if (sessionId !== undefined && scope.size === 0) this.#sessions.delete(sessionId);
    this.#logger.debug(`Unregistered host tool ${name}${sessionId === undefined ? '' : ` of session ${sessionId}`}`, { tool: name, ...(sessionId === undefined ? {} : { sessionId }) });
    return true;
  }

  /** The tool a session sees under that name: its own first, then the global one. */
  get(name: string, sessionId?: string): HostTool | undefined {
    return (sessionId === undefined ? undefined : this.#sessions.get(sessionId)?.get(name)) ?? this.#global.get(name);
  }

  /** Every tool visible to a session (own and global; own shadows global), sorted by name. */
  list(sessionId?: string): HostTool[] {
    const visible = new Map(this.#global);
    const own = sessionId === undefined ? undefined : this.#sessions.get(sessionId);
    for (const [name, tool] of own ?? []) visible.set(name, tool);
    return [...visible.values()].sort(byName);
  }

  /** The visible tools Python may see (`exposedToPython`), sorted by name. */
  listExposed(sessionId?: string): HostTool[] {
    return this.list(sessionId).filter((t) => t.exposedToPython);
  }

  /**
   * The tool Python may call. None visible, or not exposed (Python must not learn it exists):
   * `ValidationError` code `unknown_host_tool`, details `{ tool, available, sessionId }` with the
   * exposed names, sorted.
   */
  resolveForPython(name: string, sessionId?: string): HostTool {
    const tool = this.get(name, sessionId);
    if (tool?.exposedToPython) return tool;
    // A session's unexposed tool may shadow an exposed global one: the global one stays hidden too.
    const available = this.listExposed(sessionId).map((t) => t.name);
    throw new ValidationError(`Unknown host tool ${JSON.stringify(name)}`, 'unknown_host_tool', { tool: name, available, sessionId });
  }

  /** Drops a session's own tools (the session ended); returns how many. */
  cleanupSession(sessionId: string): number {
    const count = this.#sessions.get(sessionId)?.size ?? 0;
    this.#sessions.delete(sessionId);
    return count;
  }

  /**
   * Runs a tool for Python: `resolveForPython`, argument checks, then the tool under a timeout
   * (the tool's `timeoutMs`, else `ctx.timeoutMs`). On timeout the tool's `context.signal` is
   * aborted and the promise rejects with `TimeoutError` code `host_tool_timeout`, details
   * `{ tool, timeoutMs }`. A `SnakepitError` thrown by the tool passes through unchanged; anything
   * else becomes a `SnakepitError` code `host_tool_error` (category 'pool') with the original as
   * `cause`. Logged under category `bridge` (a failure at warn, with its code and details).
   */
  async invokeForPython(name: string, args: Record<string, unknown>, ctx: HostToolCallContext): Promise<unknown> {
    const startedAt = performance.now();
    try {
      const value = await this.#invoke(name, args, ctx);
      if (this.#logger.enabled('debug')) this.#logger.debug(`Host tool ${name} answered Python`, callLogContext(name, ctx, startedAt));
      return value;
    } catch (error) {
      this.#logFailure(name, ctx, startedAt, error);
      throw error;
    }
  }

  #logFailure(name: string, ctx: HostToolCallContext, startedAt: number, error: unknown): void {
    if (ctx.signal?.aborted && error === ctx.signal.reason) {
      this.#logger.debug(`Host tool ${name} was aborted by its caller`, callLogContext(name, ctx, startedAt));
      return;
    }
    const code = isSnakepitError(error) ? error.code : undefined;
    const context = { ...callLogContext(name, ctx, startedAt), ...(code === undefined ? {} : { code }) };
    if (code === 'invalid_host_tool_args') {
      // Field names only: the issues quote argument values, which may be secrets under any name.
      const fields = ((error as SnakepitError).details.issues as { path: string }[] | undefined)?.map((i) => i.path) ?? [];
      this.#logger.warn(`Python called host tool ${name} with invalid arguments (${fields.join(', ') || 'the arguments'})`, { ...context, fields });
      return;
    }
    const what = code === 'unknown_host_tool' ? `Python asked for unknown host tool ${name}` : code === 'host_tool_timeout' ? `Host tool ${name} timed out` : `Host tool ${name} failed`;
    const details = isSnakepitError(error) && Object.keys(error.details).length > 0 ? { details: error.details } : {};
    this.#logger.warn(`${what}: ${error instanceof Error ? error.message : String(error)}`, { ...context, ...details });
  }

  async #invoke(name: string, args: Record<string, unknown>, ctx: HostToolCallContext): Promise<unknown> {
    const tool = this.resolveForPython(name, ctx.sessionId);
    const timeoutMs = tool.timeoutMs ?? ctx.timeoutMs;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) {
      throw new ValidationError(`Expected \`timeoutMs\` to be a number > 0, got ${String(timeoutMs)}`, 'invalid_argument', {
        field: 'timeoutMs',
        expected: 'a number > 0',
        received: String(timeoutMs),
      });
    }
    ctx.signal?.throwIfAborted();
    const controller = new AbortController();
    const context: HostToolContext = {
      toolName: tool.name,
      sessionId: ctx.sessionId,
      workerId: ctx.workerId,
      pool: ctx.pool,
      correlationId: ctx.correlationId,
      signal: controller.signal,
    };

    return new Promise<unknown>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ctx.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = (): void => {
        const reason: unknown = ctx.signal?.reason;
        controller.abort(reason);
        settle(() => reject(reason));
      };
      // Longer than setTimeout can count (Infinity included): no timer rather than one that fires at once.
      if (timeoutMs <= MAX_TIMER_MS) {
        timer = setTimeout(() => {
          const message = `Host tool ${tool.name} did not finish within ${timeoutMs} ms`;
          const error = new TimeoutError(message, 'host_tool_timeout', timeoutMs, { tool: tool.name });
          controller.abort(error);
          settle(() => reject(error));
        }, timeoutMs);
        timer.unref();
      }
      ctx.signal?.addEventListener('abort', onAbort, { once: true });

      // `invoke` validates synchronously, before the timer can fire: bad arguments reject with their issues.
      tool.invoke(args, context).then(
        (value) => settle(() => resolve(value)),
        (error: unknown) => settle(() => reject(toHostToolError(tool.name, error))),
      );
    });
  }

  #sessionScope(sessionId: string): Map<string, HostTool> {
    let scope = this.#sessions.get(sessionId);
    if (!scope) this.#sessions.set(sessionId, (scope = new Map()));
    return scope;
  }
}

/** The context of a host tool call's log record (defined values only). */
function callLogContext(tool: string, ctx: HostToolCallContext, startedAt: number): Record<string, unknown> {
  const out: Record<string, unknown> = { tool, durationMs: Math.round((performance.now() - startedAt) * 1000) / 1000 };
  if (ctx.sessionId !== undefined) out.sessionId = ctx.sessionId;
  if (ctx.workerId !== undefined) out.workerId = ctx.workerId;
  if (ctx.pool !== undefined) out.pool = ctx.pool;
  if (ctx.correlationId !== undefined) out.correlationId = ctx.correlationId;
  return out;
}

/** A tool's own `SnakepitError` unchanged; anything else wrapped as `host_tool_error`. */
function toHostToolError(tool: string, error: unknown): SnakepitError {
  if (isSnakepitError(error)) return error;
  const isError = error instanceof Error;
  const message = isError ? error.message : String(error);
  const errorName = isError ? error.name : typeof error;
  return new SnakepitError(`Host tool ${tool} failed: ${message}`, {
    code: 'host_tool_error',
    category: 'pool',
    details: { tool, errorName },
    cause: error,
  });
}
