/** A worker process's stdout and stderr as host log records: one per line, tagged, start-up stderr kept. */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger, LogLevel } from '../logger.js';

/** The stderr lines kept from start-up, to explain a worker that died before its handshake. */
const STARTUP_STDERR_LINES = 40;

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

/** Folds a process's output streams into `logger`; keeps the last stderr lines until `startupDone()`. */
export class ChildLogs {
  #collectStderr = true;
  readonly #startupStderr: string[] = [];

  constructor(readonly logger: Logger) {}

  /** The last stderr lines seen before `startupDone()`. */
  get startupStderr(): string {
    return this.#startupStderr.join('\n');
  }

  /** Stops keeping stderr lines for start-up diagnostics. */
  startupDone(): void {
    this.#collectStderr = false;
    this.#startupStderr.length = 0;
  }

  /** Python output is logs, never protocol: one record per line of `stream`, tagged with its name. */
  fold(stream: Readable | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (this.#collectStderr && name === 'stderr') {
        this.#startupStderr.push(line);
        if (this.#startupStderr.length > STARTUP_STDERR_LINES) this.#startupStderr.shift();
      }
      // A call's correlation id goes from the line's end to the record's context.
      const corr = CORRELATION_SUFFIX.exec(line);
      const text = corr ? line.slice(0, corr.index) : line;
      const context = corr ? { stream: name, category: 'python', correlationId: corr[1] } : { stream: name, category: 'python' };
      this.logger.log(name === 'stderr' ? stderrLevel(text) : 'info', text, context);
    });
  }
}
