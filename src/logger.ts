/**
 * A small levelled logger with categories; Python's stdout/stderr lines land here with their
 * worker id (category `python`). Records go to a sink: stderr by default, or any pino-compatible
 * logger (`pinoSink`). Secrets in a record's context (tokens, keys, passwords) are redacted.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';
/** A level as users may write it: `warning` is the original's (and Python's) spelling of `warn`. */
export type LogLevelInput = LogLevel | 'warning';

/** Categories the library logs under (`context.category`); any string works. */
export type LogCategory = 'pool' | 'worker' | 'grpc' | 'bridge' | 'lifecycle' | 'heartbeat' | 'telemetry' | 'python' | 'session' | (string & {});

const RANK: Record<LogLevelInput, number> = { debug: 10, info: 20, warn: 30, warning: 30, error: 40, none: 100 };

/** One log record. */
export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  /** e.g. `{ workerId, pool, stream: 'stdout', category: 'python' }`. */
  context: Record<string, unknown>;
}

/** Where records go: replace it to route logs into pino, winston, a test buffer… */
export type LogSink = (record: LogRecord) => void;

/** The part of pino's interface the sink uses (also bunyan's, and many others'). */
export interface PinoLike {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A sink that writes into a pino-compatible logger: `pinoSink(pino())`. */
export function pinoSink(target: PinoLike): LogSink {
  return ({ level, message, context }) => target[level](context, message);
}

const stderrSink: LogSink = ({ level, message, context }) => {
  const tag = context.workerId ? ` ${String(context.workerId)}` : '';
  process.stderr.write(`[snakepit${tag}] ${level === 'info' ? '' : `${level}: `}${message}\n`);
};

// Keys whose values never reach a sink (the original's SafeMetadata redaction).
const SECRET_KEY = /token|secret|passw(or)?d|api[-_]?key|authorization|credential|private[-_]?key|cookie/i;
export const REDACTED = '[REDACTED]';

/** `context` with secret-looking keys replaced by `[REDACTED]` (two levels deep). */
export function redact(context: Record<string, unknown>, depth = 0): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in context) {
    const value = context[key];
    let next = value;
    if (SECRET_KEY.test(key)) next = REDACTED;
    else if (depth < 1 && value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Error)) {
      next = redact(value as Record<string, unknown>, depth + 1);
    }
    if (next !== value) (out ??= { ...context })[key] = next;
  }
  return out ?? context;
}

/** Levels shared by a logger and its children: changing one category changes it everywhere. */
interface Shared {
  categories: Map<string, LogLevelInput>;
}

// A `withLevel` override for the async scope it runs in.
const scoped = new AsyncLocalStorage<{ level: LogLevelInput; category: string | undefined }>();

/**
 * Runs `fn` with `level` in force (for `category` only, or all) in its whole async scope: the
 * original's `with_level`. Other concurrent work keeps its levels; it wins over `setProcessLevel`.
 * @example await withLevel('debug', () => sp.execute('flaky'), 'worker')
 */
export function withLevel<T>(level: LogLevelInput, fn: () => T, category?: LogCategory): T {
  return scoped.run({ level, category }, fn);
}

// `setProcessLevel` overrides for every logger of the process: per category, and '' for all.
const processLevels = new Map<string, LogLevelInput>();

/**
 * Sets a level for every logger in this process (every instance), over config and categories and
 * until `clearProcessLevel`: the original's `set_process_level` (Node's process is the unit an
 * Erlang process was there). A `withLevel` scope still wins. `category` limits it to one.
 * @example setProcessLevel('debug'); ...; clearProcessLevel();
 */
export function setProcessLevel(level: LogLevelInput, category?: LogCategory): void {
  if (!(level in RANK)) throw new TypeError(`Unknown log level ${JSON.stringify(level)} (one of ${Object.keys(RANK).join(', ')})`);
  processLevels.set(category ?? '', level === 'warning' ? 'warn' : level);
}

/** The process-wide level `setProcessLevel` set (for `category`, else for all), or undefined. */
export function getProcessLevel(category?: LogCategory): LogLevel | undefined {
  return (processLevels.get(category ?? '') ?? (category === undefined ? undefined : processLevels.get(''))) as LogLevel | undefined;
}

/** Removes the process-wide level of `category`, or every one when no category is given. */
export function clearProcessLevel(category?: LogCategory): void {
  if (category === undefined) processLevels.clear();
  else processLevels.delete(category);
}

/** `logCategories` as the config and `Snakepit.start` take it: levels per category, or the original's list. */
export type LogCategoriesInput = Readonly<Record<string, LogLevelInput>> | readonly string[];

/**
 * The logger's base level and category levels from `logLevel` and `logCategories` sources (later
 * ones win). The list form is the original's whitelist: the listed categories log at `level`,
 * the others only warnings and errors.
 */
export function resolveLogLevels(level: LogLevelInput, ...sources: (LogCategoriesInput | undefined)[]): { level: LogLevelInput; categories: Record<string, LogLevelInput> } {
  let base = level;
  const categories: Record<string, LogLevelInput> = {};
  for (const source of sources) {
    if (source === undefined) continue;
    if (Array.isArray(source)) {
      if (RANK[base] < RANK.warn) base = 'warn';
      for (const category of source as readonly string[]) categories[category] = level;
    } else Object.assign(categories, source);
  }
  return { level: base, categories };
}

/** A logger with a minimum level, per-category levels and a sink. */
export class Logger {
  readonly #shared: Shared;

  /**
   * @param level minimum level of categories without their own @default 'info'
   * @param categories per-category levels, e.g. `{ python: 'debug', heartbeat: 'none' }`
   */
  constructor(
    readonly level: LogLevelInput = 'info',
    readonly sink: LogSink = stderrSink,
    readonly context: Record<string, unknown> = {},
    categories?: Record<string, LogLevelInput> | Shared,
  ) {
    this.#shared = categories instanceof Object && 'categories' in categories && categories.categories instanceof Map
      ? (categories as Shared)
      : { categories: new Map(Object.entries((categories ?? {}) as Record<string, LogLevelInput>)) };
  }

  /** A logger that adds `context` to every record (`{ category: 'pool' }` picks a category). */
  child(context: Record<string, unknown>): Logger {
    return new Logger(this.level, this.sink, { ...this.context, ...context }, this.#shared);
  }

  /** Sets one category's level for this logger and all its relatives; `undefined` resets it. */
  setCategoryLevel(category: LogCategory, level: LogLevelInput | undefined): void {
    if (level === undefined) this.#shared.categories.delete(category);
    else this.#shared.categories.set(category, level);
  }

  /** Per-category levels in force. */
  categoryLevels(): Record<string, LogLevelInput> {
    return Object.fromEntries(this.#shared.categories);
  }

  #threshold(category: unknown): number {
    const override = scoped.getStore();
    if (override && (override.category === undefined || override.category === category)) return RANK[override.level];
    if (processLevels.size > 0) {
      const processWide = (typeof category === 'string' ? processLevels.get(category) : undefined) ?? processLevels.get('');
      if (processWide !== undefined) return RANK[processWide];
    }
    const own = typeof category === 'string' ? this.#shared.categories.get(category) : undefined;
    return RANK[own ?? this.level];
  }

  enabled(level: Exclude<LogLevelInput, 'none'>, category: unknown = this.context.category): boolean {
    return RANK[level] >= this.#threshold(category);
  }

  log(level: Exclude<LogLevelInput, 'none'>, message: string, context?: Record<string, unknown>): void {
    const category = context?.category ?? this.context.category;
    if (RANK[level] < this.#threshold(category)) return;
    const merged = context ? { ...this.context, ...context } : this.context;
    this.sink({ level: level === 'warning' ? 'warn' : level, message, context: redact(merged) });
  }

  debug(message: string, context?: Record<string, unknown>): void {
    this.log('debug', message, context);
  }
  info(message: string, context?: Record<string, unknown>): void {
    this.log('info', message, context);
  }
  warn(message: string, context?: Record<string, unknown>): void {
    this.log('warn', message, context);
  }
  error(message: string, context?: Record<string, unknown>): void {
    this.log('error', message, context);
  }
}
