/** A spawned Python worker process: argument-array spawn, own process group, logs, exit, stop/kill. */
import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import type { Logger } from '../logger.js';
import { killProcessGroup, stopProcessGroup, trackProcess, untrackProcess, type ProcessExit } from '../process/live-processes.js';
import { extractRunId } from '../process/run-id.js';
import { ChildLogs } from './child-logs.js';

export type { ProcessExit } from '../process/live-processes.js';

/** How long to wait for the fd 4 stream to drain after the process exited. */
export const DRAIN_AFTER_EXIT_MS = 500;

/**
 * A worker's process as the worker sees it, however it was started: spawned (`WorkerProcess`) or
 * forked from its pool's template (`ForkedProcess`). Both lead their own process group, carry the
 * run id on their command line and are in the run's registry.
 */
export interface WorkerChild {
  readonly pid: number | undefined;
  readonly exited: Promise<ProcessExit>;
  /** Frames to Python (a spawned worker's fd 3). */
  readonly toPython: Writable;
  /** Frames from Python (a spawned worker's fd 4). */
  readonly fromPython: Readable;
  /** The last stderr lines seen before `startupDone()`. */
  readonly startupStderr: string;
  /** The last stderr lines since start-up (how it died: a GPU fault's last words). */
  readonly recentStderr: string;
  startupDone(): void;
  /** SIGTERM to the group, SIGKILL after `gracefulTimeoutMs`; resolves once it exited. */
  stop(gracefulTimeoutMs: number): Promise<ProcessExit>;
  /** SIGKILL to the group, now. */
  kill(): void;
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
export class WorkerProcess implements WorkerChild {
  readonly exited: Promise<ProcessExit>;
  readonly #child: ReturnType<typeof spawnChild>;
  readonly #logs: ChildLogs;

  constructor(options: SpawnOptions) {
    this.#logs = new ChildLogs(options.logger);
    this.#child = spawnChild(options);
    // The run id the worker carries on its command line is the run whose registry records it:
    // exactly what a later sweep verifies before reaping.
    if (this.#child.pid !== undefined) trackProcess(this.#child.pid, extractRunId(options.args));
    this.#logs.fold(this.#child.stdout, 'stdout');
    this.#logs.fold(this.#child.stderr, 'stderr');
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

  get startupStderr(): string {
    return this.#logs.startupStderr;
  }

  startupDone(): void {
    this.#logs.startupDone();
  }

  get recentStderr(): string {
    return this.#logs.recentStderr;
  }

  async stop(gracefulTimeoutMs: number): Promise<ProcessExit> {
    return this.pid === undefined ? this.exited : stopProcessGroup(this.pid, this.exited, gracefulTimeoutMs);
  }

  kill(): void {
    if (this.pid !== undefined) killProcessGroup(this.pid, 'SIGKILL');
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
