/** A small levelled logger; Python's stdout/stderr lines land here with their worker id. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, none: 100 };

/** One log record. */
export interface LogRecord {
  level: Exclude<LogLevel, 'none'>;
  message: string;
  /** e.g. `{ workerId, pool, stream: 'stdout' }`. */
  context: Record<string, unknown>;
}

/** Where records go: replace it to route logs into pino, winston, a test buffer… */
export type LogSink = (record: LogRecord) => void;

const stderrSink: LogSink = ({ level, message, context }) => {
  const tag = context.workerId ? ` ${String(context.workerId)}` : '';
  process.stderr.write(`[snakepit${tag}] ${level === 'info' ? '' : `${level}: `}${message}\n`);
};

/** A logger with a minimum level and a sink. */
export class Logger {
  constructor(
    readonly level: LogLevel = 'info',
    readonly sink: LogSink = stderrSink,
    readonly context: Record<string, unknown> = {},
  ) {}

  /** A logger that adds `context` to every record. */
  child(context: Record<string, unknown>): Logger {
    return new Logger(this.level, this.sink, { ...this.context, ...context });
  }

  enabled(level: Exclude<LogLevel, 'none'>): boolean {
    return RANK[level] >= RANK[this.level];
  }

  log(level: Exclude<LogLevel, 'none'>, message: string, context?: Record<string, unknown>): void {
    if (RANK[level] < RANK[this.level]) return;
    this.sink({ level, message, context: context ? { ...this.context, ...context } : this.context });
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
