/** A worker process's stdout and stderr as host log records: one per line, tagged; the last stderr lines kept. */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger, LogLevel } from '../logger.js';

/** The stderr lines kept: to explain a worker that died before its handshake, or how one died later (a GPU fault). */
const STDERR_TAIL_LINES = 40;

/** Levels of the bridge's `logging` format ("LEVEL name: message"). */
const PYTHON_LOG_LEVELS: Record<string, Exclude<LogLevel, 'none'>> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
};

/** The bridge's log format ends a call's lines with ` [correlation_id=…]`. */
const CORRELATION_SUFFIX = / \[correlation_id=([^\]\s]+)\]$/;

/** The host level of a stderr line: the Python logging level when it has one, else warn. */
function stderrLevel(line: string): Exclude<LogLevel, 'none'> {
  const space = line.indexOf(' ');
  return (space > 0 && PYTHON_LOG_LEVELS[line.slice(0, space)]) || 'warn';
}

/** Folds a process's output streams into `logger`; keeps the last stderr lines (those of start-up until `startupDone()`). */
export class ChildLogs {
  readonly #stderrTail: string[] = [];

  constructor(readonly logger: Logger) {}

  /** The last stderr lines seen before `startupDone()` (read while starting). */
  get startupStderr(): string {
    return this.#stderrTail.join('\n');
  }

  /** The last stderr lines since start-up (read when it died: its last words). */
  get recentStderr(): string {
    return this.#stderrTail.join('\n');
  }

  /** Start-up is over: its stderr lines are dropped, later ones kept (at most the last 40). */
  startupDone(): void {
    this.#stderrTail.length = 0;
  }

  /** Python output is logs, never protocol: one record per line of `stream`, tagged with its name. */
  fold(stream: Readable | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (name === 'stderr') {
        this.#stderrTail.push(line);
        if (this.#stderrTail.length > STDERR_TAIL_LINES) this.#stderrTail.shift();
      }
      // A call's correlation id goes from the line's end to the record's context.
      const corr = CORRELATION_SUFFIX.exec(line);
      const text = corr ? line.slice(0, corr.index) : line;
      const context = corr ? { stream: name, category: 'python', correlationId: corr[1] } : { stream: name, category: 'python' };
      this.logger.log(name === 'stderr' ? stderrLevel(text) : 'info', text, context);
    });
  }
}
