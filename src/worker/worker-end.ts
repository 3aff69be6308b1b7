/** How a worker's life ends: the host's stop or kill (and why), an attached worker let go, the exit its pool hears and the error its unfinished calls get. */
import { WorkerError } from '../errors.js';
import { sweepShm } from '../transport/shm.js';
import type { AttachedEndpoint, SpawnedEndpoint, WorkerExit } from './endpoints.js';
import type { ProcessExit, WorkerChild } from './worker-process.js';

/** The code a kill gives the worker's unfinished calls: `worker_hung` when heartbeats gave up on it. */
export type KillCode = 'worker_crashed' | 'worker_hung';

/** One worker's end: what the host asked for before it came, and what the end means once it came. */
export class WorkerEnd {
  /** The host asked it to stop (`Worker.stop`). */
  stopRequested = false;
  #killReason: string | undefined;
  #killCode: KillCode = 'worker_crashed';
  #resolveDetached: (() => void) | undefined;
  /** Resolves once an attached worker is let go (`detach`): its process is not ours to watch. */
  readonly detached = new Promise<void>((resolve) => (this.#resolveDetached = resolve));

  /** @param process its spawned or forked process; undefined for an attached worker. */
  constructor(
    readonly workerId: string,
    readonly process: WorkerChild | undefined,
  ) {}

  /** Why the host killed it; undefined unless it did. */
  get killReason(): string | undefined {
    return this.#killReason;
  }

  /** The host kills it: the first kill's reason and code are the ones kept. */
  killed(reason: string, code: KillCode): void {
    if (this.#killReason === undefined) [this.#killReason, this.#killCode] = [reason, code];
  }

  /** Ends an attached worker's life (its process is not ours to watch). */
  detach(): void {
    this.#resolveDetached?.();
  }

  /** How the worker ended, as its pool hears it: expected when the host stopped or killed it. */
  result(exit: ProcessExit): WorkerExit {
    return {
      ...exit,
      expected: this.stopRequested || this.#killReason !== undefined,
      ...(this.#killReason === undefined ? {} : { reason: this.#killReason }),
    };
  }

  /** A worker killed mid-transfer leaves the shm files it wrote and nobody read: its pid names them. */
  sweepLeftShm(endpoint: SpawnedEndpoint | AttachedEndpoint): void {
    if (this.process?.pid !== undefined && endpoint.kind === 'spawn' && endpoint.payload?.zeroCopy) {
      const pid = this.process.pid;
      sweepShm((runId, creator) => runId === endpoint.runId && creator === pid);
    }
  }

  /** The error its unfinished calls get (`worker_start_failed` with its stderr when it died starting). */
  error(exit: ProcessExit, result: WorkerExit, wasStarting: boolean): WorkerError {
    const details = { workerId: this.workerId, exitCode: exit.exitCode, signal: exit.signal, ...(result.reason ? { reason: result.reason } : {}) };
    if (wasStarting) {
      return new WorkerError(`Worker ${this.workerId} exited during start-up (code ${String(exit.exitCode)}, signal ${String(exit.signal)})`, 'worker_start_failed', {
        ...details,
        stderr: this.process?.startupStderr ?? '',
      });
    }
    const how = this.process ? 'exited' : 'was disconnected';
    // An attached worker let go by the host's stop is no crash: its calls end with `pool_stopped`.
    const code = !this.process && this.#killReason === undefined ? 'pool_stopped' : this.#killCode;
    return new WorkerError(`Worker ${this.workerId} ${how}${result.reason ? ` (${result.reason})` : ''} with code ${String(exit.exitCode)}, signal ${String(exit.signal)}`, code, details);
  }
}
