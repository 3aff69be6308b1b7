/**
 * A pool's fork template (python/snakepit_bridge/fork_template.py): a Python process started like a
 * worker — own process group, run id on its command line, in the run's registry, dying with the
 * host — that imported the bridge and the adapter and ran `preload()` once. The host asks it over
 * its pipes to fork each worker, and hears from it when a forked worker exits (only a parent can).
 */
import { TimeoutError, WorkerError } from '../errors.js';
import type { Logger } from '../logger.js';
import { killProcessGroup, trackProcess, untrackProcess, type ProcessExit } from '../process/live-processes.js';
import { decode, encode } from '../transport/codec.js';
import { FrameReader, writeFrame } from '../transport/pipe/framing.js';
import type { WireError } from '../transport/types.js';
import { fatalErrorFromWire } from '../transport/wire-error.js';
import type { ForkServer } from './fork-server.js';
import { ForkedProcess } from './forked-process.js';
import { WorkerProcess } from './worker-process.js';

/** Why the template will not fork (fork_safety.py): the pool spawns its workers instead. */
export interface ForkRefusal {
  code: 'platform' | 'threads' | 'cuda' | 'native_threads';
  message: string;
}

/** The template's `ready` report. */
export interface TemplateReady {
  pid: number;
  python: string;
  /** The adapter class has a `preload()` hook and it ran. */
  preloaded: boolean;
  importMs: number;
  preloadMs: number;
  refused?: ForkRefusal;
}

/** Frames the template sends (docs/protocol.md, "Fork template"). */
type TemplateFrame =
  | ({ t: 'ready' } & TemplateReady)
  | { t: 'fatal'; error: WireError }
  | { t: 'forked'; id: number; pid: number }
  | { t: 'fork_failed'; id: number; message: string }
  | { t: 'exited'; pid: number; code: number | null; signal: string | null };

export interface ForkTemplateOptions {
  /** Its name in logs and errors, e.g. `default-template`. */
  id: string;
  python: string;
  /** `-m snakepit_bridge.fork_template --adapter … --snakepit-run-id …` */
  args: string[];
  env: Record<string, string>;
  cwd?: string | undefined;
  runId: string;
  /** Its import and `preload()` must be done within this time. */
  startupTimeoutMs: number;
  /** Where its children connect. */
  server: ForkServer;
  logger: Logger;
}

/** A forked child between `forked` and its exit report. */
interface Child {
  resolveExit(exit: ProcessExit): void;
}

interface PendingFork {
  resolve(child: { pid: number; exit: Promise<ProcessExit> }): void;
  reject(error: Error): void;
}

/** A running template; `ForkTemplate.start()` resolves once it is ready (or has refused to fork). */
export class ForkTemplate {
  readonly id: string;
  readonly exited: Promise<ProcessExit>;
  readyInfo: TemplateReady | undefined;
  readonly #options: ForkTemplateOptions;
  readonly #process: WorkerProcess;
  readonly #reader = new FrameReader();
  readonly #children = new Map<number, Child>();
  readonly #forks = new Map<number, PendingFork>();
  #nextId = 0;
  #gone = false;
  #stopRequested = false;
  #unresponsive = false;
  readonly #childlessWaiters: (() => void)[] = [];
  #onReady: ((frame: TemplateFrame & { t: 'ready' | 'fatal' }) => void) | undefined;

  private constructor(options: ForkTemplateOptions) {
    this.id = options.id;
    this.#options = options;
    this.#process = new WorkerProcess({ python: options.python, args: options.args, env: options.env, cwd: options.cwd, logger: options.logger });
    this.#process.fromPython.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#process.toPython.on('error', () => {}); // EPIPE once it died: seen through its exit
    this.exited = this.#process.exited.then((exit) => this.#died(exit));
  }

  /** Starts a template; rejects with the adapter's error (`adapter_import`), a start-up crash or timeout. */
  static async start(options: ForkTemplateOptions): Promise<ForkTemplate> {
    const template = new ForkTemplate(options);
    await template.#handshake();
    return template;
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** False once the template exited. */
  get alive(): boolean {
    return !this.#gone;
  }

  /** True once a fork request went unanswered for `startupTimeoutMs`: fork no more from it. */
  get unresponsive(): boolean {
    return this.#unresponsive;
  }

  /** True once `stop()` was called: its exit is no death. */
  get stopRequested(): boolean {
    return this.#stopRequested;
  }

  /** Resolves once no worker forked from it is alive or being forked (at once when none is, or it is gone). */
  childless(): Promise<void> {
    if (this.#isChildless()) return Promise.resolve();
    return new Promise((resolve) => this.#childlessWaiters.push(resolve));
  }

  /**
   * Forks a worker that runs as `python <argv>` would: resolves with its process once it connected
   * its streams (its handshake is the worker's own, as for a spawned one).
   */
  async fork(argv: string[], logger: Logger): Promise<ForkedProcess> {
    const { server, startupTimeoutMs, runId } = this.#options;
    if (this.#gone) throw this.#goneError();
    const id = ++this.#nextId;
    const expected = server.expect(startupTimeoutMs);
    const forked = new Promise<{ pid: number; exit: Promise<ProcessExit> }>((resolve, reject) => this.#forks.set(id, { resolve, reject }));
    this.#send({ t: 'fork', id, argv, token: expected.token, socket: server.path });
    let pid: number;
    let exit: Promise<ProcessExit>;
    try {
      // The child may connect before its `forked` report is read; without either in time, the template hangs.
      ({ pid, exit } = await Promise.race([forked, expected.streams.then(() => forked)]));
    } catch (error) {
      if (this.#forks.delete(id)) this.#unresponsive = true;
      expected.cancel(error as Error);
      throw error;
    }
    // In the registry at once, as a spawned worker is from its spawn: a host dying now leaves it reapable.
    trackProcess(pid, runId);
    const earlyExit = exit.then((e) => {
      throw new WorkerError(`Forked worker ${pid} exited before it connected (code ${String(e.exitCode)}, signal ${String(e.signal)})`, 'worker_start_failed', { pid, exitCode: e.exitCode, signal: e.signal, template: this.id });
    });
    earlyExit.catch(() => {});
    try {
      const streams = await Promise.race([expected.streams, earlyExit]);
      return new ForkedProcess(pid, streams, exit, logger);
    } catch (error) {
      expected.cancel(error as Error);
      killProcessGroup(pid, 'SIGKILL');
      void exit.then(() => untrackProcess(pid));
      throw error;
    }
  }

  /** SIGTERM (the template runs no cleanup), SIGKILL after `gracefulTimeoutMs`; resolves once it is gone. */
  async stop(gracefulTimeoutMs: number): Promise<void> {
    this.#stopRequested = true;
    await this.#process.stop(gracefulTimeoutMs);
    await this.exited;
  }

  async #handshake(): Promise<void> {
    const { startupTimeoutMs } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    const frame = await new Promise<TemplateFrame & { t: 'ready' | 'fatal' }>((resolve, reject) => {
      this.#onReady = resolve;
      timer = setTimeout(() => reject(new TimeoutError(`Fork template ${this.id} was not ready within ${startupTimeoutMs} ms`, 'startup_timeout', startupTimeoutMs, { workerId: this.id })), startupTimeoutMs);
      void this.exited.then((exit) =>
        reject(new WorkerError(`Fork template ${this.id} exited during start-up (code ${String(exit.exitCode)}, signal ${String(exit.signal)})`, 'worker_start_failed', { workerId: this.id, ...exit, stderr: this.#process.startupStderr })),
      );
    })
      .catch(async (error: unknown) => {
        this.#process.kill();
        await this.exited;
        throw error;
      })
      .finally(() => clearTimeout(timer));
    if (frame.t === 'fatal') {
      this.#process.kill();
      await this.exited;
      throw fatalErrorFromWire(frame.error, this.id);
    }
    const { t: _t, ...info } = frame;
    this.readyInfo = info;
    this.#process.startupDone();
  }

  #send(frame: Record<string, unknown>): void {
    if (!this.#gone) writeFrame(this.#process.toPython, encode(frame));
  }

  #onData(chunk: Buffer): void {
    try {
      this.#reader.push(chunk, (body) => this.#onFrame(decode(body) as TemplateFrame));
    } catch (error) {
      this.#options.logger.error(`Fork template ${this.id} sent a malformed frame: ${(error as Error).message}`);
      this.#process.kill();
    }
  }

  #onFrame(frame: TemplateFrame): void {
    switch (frame.t) {
      case 'ready':
      case 'fatal':
        this.#onReady?.(frame);
        this.#onReady = undefined;
        return;
      case 'forked': {
        const pending = this.#forks.get(frame.id);
        if (!pending) return; // given up on (timed out): the child finds no one expecting it and exits
        this.#forks.delete(frame.id);
        // Known as a child now, in this tick: its `exited` may be the very next frame.
        const exit = new Promise<ProcessExit>((resolve) => this.#children.set(frame.pid, { resolveExit: resolve }));
        pending.resolve({ pid: frame.pid, exit });
        return;
      }
      case 'fork_failed':
        this.#forks.get(frame.id)?.reject(new WorkerError(`Fork template ${this.id} could not fork: ${frame.message}`, 'worker_start_failed', { workerId: this.id }));
        this.#forks.delete(frame.id);
        this.#checkChildless();
        return;
      case 'exited':
        this.#children.get(frame.pid)?.resolveExit({ exitCode: frame.code, signal: frame.signal });
        this.#children.delete(frame.pid);
        this.#checkChildless();
        return;
      default:
        this.#options.logger.warn(`Fork template ${this.id} sent an unknown frame ${String((frame as { t: unknown }).t)}`);
    }
  }

  #isChildless(): boolean {
    return this.#gone || (this.#children.size === 0 && this.#forks.size === 0);
  }

  #checkChildless(): void {
    if (this.#isChildless()) for (const resolve of this.#childlessWaiters.splice(0)) resolve();
  }

  #goneError(): WorkerError {
    return new WorkerError(`Fork template ${this.id} is gone`, 'worker_start_failed', { workerId: this.id });
  }

  /**
   * The template's children die with it (their PDEATHSIG); their groups get SIGKILL here too, in
   * case one is stuck where even that waits. Nobody can report their exit now: it reads as SIGKILL.
   */
  #died(exit: ProcessExit): ProcessExit {
    this.#gone = true;
    for (const pending of this.#forks.values()) pending.reject(this.#goneError());
    this.#forks.clear();
    for (const [pid, child] of this.#children) {
      killProcessGroup(pid, 'SIGKILL');
      child.resolveExit({ exitCode: null, signal: 'SIGKILL' });
    }
    this.#children.clear();
    this.#checkChildless();
    return exit;
  }
}
