/** A spawned Python worker process: argument-array spawn, own process group, logs, exit, stop/kill. */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import type { Logger, LogLevel } from '../logger.js';
import { killProcessGroup, noteForcedKill, trackProcess, untrackProcess } from '../process/live-processes.js';
import { extractRunId } from '../process/run-id.js';

/** How a worker's process ended. */
export interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
}

/** The stderr lines kept: to explain a worker that died before its handshake, or how one died later (a GPU fault). */
const STDERR_TAIL_LINES = 40;
/** How long to wait for the fd 4 stream to drain after the process exited. */
const DRAIN_AFTER_EXIT_MS = 500;

/** Levels of the bridge's `logging` format ("LEVEL name: message"). */
const PYTHON_LOG_LEVELS: Record<string, Exclude<LogLevel, 'none'>> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
};

/** The host level of a stderr line: the Python logging level when it has one, else warn. */
const CORRELATION_SUFFIX = / \[correlation_id=([^\]\s]+)\]$/;

function stderrLevel(line: string): Exclude<LogLevel, 'none'> {
  const space = line.indexOf(' ');
  return (space > 0 && PYTHON_LOG_LEVELS[line.slice(0, space)]) || 'warn';
}

export interface SpawnOptions {
  python: string;
  args: string[];
  /** Full environment of the child (already merged). */
  env: Record<string, string>;
  cwd?: string | undefined;
  logger: Logger;
}

function spawnChild(options: SpawnOptions) {
  return execa(options.python, options.args, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: options.env,
    extendEnv: false,
    cwd: options.cwd,
    // Own process group, so stop() can signal the worker and anything it spawned together.
    detached: true,
    buffer: false,
    reject: false,
    // Our own exit hook kills detached groups; execa's cleanup skips detached children.
    cleanup: false,
  });
}

/** One child process with fds 3 (to Python) and 4 (from Python) as its protocol pipes. */
export class WorkerProcess {
  readonly exited: Promise<ProcessExit>;
  readonly #child: ReturnType<typeof spawnChild>;
  readonly #logger: Logger;
  /** The last stderr lines, since start-up ended once it did. */
  readonly #stderrTail: string[] = [];

  constructor(options: SpawnOptions) {
    this.#logger = options.logger;
    this.#child = spawnChild(options);
    // The run id the worker carries on its command line is the run whose registry records it:
    // exactly what a later sweep verifies before reaping.
    if (this.#child.pid !== undefined) trackProcess(this.#child.pid, extractRunId(options.args));
    this.#foldLogs(this.#child.stdout, 'stdout');
    this.#foldLogs(this.#child.stderr, 'stderr');
    this.exited = this.#watchExit();
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** fd 3: frames to Python. execa types it as output; at run time it is a duplex socket. */
  get toPython(): Writable {
    return this.#child.stdio[3] as unknown as Writable;
  }

  /** fd 4: frames from Python. */
  get fromPython(): Readable {
    return this.#child.stdio[4] as Readable;
  }

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

  /** SIGTERM to the group, SIGKILL after `gracefulTimeoutMs`; resolves once it exited. */
  async stop(gracefulTimeoutMs: number): Promise<ProcessExit> {
    const pid = this.pid;
    if (pid === undefined) return this.exited;
    killProcessGroup(pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        killProcessGroup(pid, 'SIGKILL');
        noteForcedKill(pid);
        resolve();
      }, gracefulTimeoutMs);
    });
    await Promise.race([this.exited, forced]);
    clearTimeout(timer);
    return this.exited;
  }

  /** SIGKILL to the group, now. */
  kill(): void {
    if (this.pid !== undefined) killProcessGroup(this.pid, 'SIGKILL');
  }

  #foldLogs(stream: Readable | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    // Python output is logs, never protocol: one record per line, tagged with the worker.
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (name === 'stderr') {
        this.#stderrTail.push(line);
        if (this.#stderrTail.length > STDERR_TAIL_LINES) this.#stderrTail.shift();
      }
      // The bridge's log format ends a call's lines with ` [correlation_id=…]`: it goes to the context.
      const corr = CORRELATION_SUFFIX.exec(line);
      const text = corr ? line.slice(0, corr.index) : line;
      const context = corr ? { stream: name, category: 'python', correlationId: corr[1] } : { stream: name, category: 'python' };
      this.#logger.log(name === 'stderr' ? stderrLevel(text) : 'info', text, context);
    });
  }

  async #watchExit(): Promise<ProcessExit> {
    const fd4 = this.fromPython;
    const fd4Closed = new Promise<void>((resolve) => fd4.once('close', resolve));
    const result = await this.#child;
    // Frames written just before exit (a `fatal`, a last `error`) may still be in the pipe.
    await Promise.race([fd4Closed, new Promise((resolve) => setTimeout(resolve, DRAIN_AFTER_EXIT_MS).unref())]);
    if (this.pid !== undefined) untrackProcess(this.pid);
    return { exitCode: result.exitCode ?? null, signal: result.signal ?? null };
  }
}
