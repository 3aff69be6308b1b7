/**
 * A worker process forked from its pool's template: the spawned worker's `WorkerChild` over the
 * streams the child opened on the host's fork socket. It leads its own process group (stop and kill
 * signal it as they do a spawned one); its exit is reported by the template, its only parent.
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { Logger } from '../logger.js';
import { killProcessGroup, stopProcessGroup, untrackProcess, type ProcessExit } from '../process/live-processes.js';
import { ChildLogs } from './child-logs.js';
import type { ForkedStreams } from './fork-server.js';
import { DRAIN_AFTER_EXIT_MS, type WorkerChild } from './worker-process.js';

export class ForkedProcess implements WorkerChild {
  readonly exited: Promise<ProcessExit>;
  readonly #streams: ForkedStreams;
  readonly #logs: ChildLogs;

  /**
   * `pid` is already tracked in the run's registry (from the template's `forked` report); `exit`
   * settles with the template's `exited` report (or its own death, which takes its children along).
   */
  constructor(
    readonly pid: number,
    streams: ForkedStreams,
    exit: Promise<ProcessExit>,
    logger: Logger,
  ) {
    this.#streams = streams;
    this.#logs = new ChildLogs(logger);
    this.#logs.fold(streams.stdout, 'stdout');
    this.#logs.fold(streams.stderr, 'stderr');
    this.exited = this.#watchExit(exit);
  }

  /** The protocol socket, written as a spawned worker's fd 3. */
  get toPython() {
    return this.#streams.proto;
  }

  /** The protocol socket, read as a spawned worker's fd 4. */
  get fromPython() {
    return this.#streams.proto;
  }

  get startupStderr(): string {
    return this.#logs.startupStderr;
  }

  get recentStderr(): string {
    return this.#logs.recentStderr;
  }

  startupDone(): void {
    this.#logs.startupDone();
  }

  stop(gracefulTimeoutMs: number): Promise<ProcessExit> {
    return stopProcessGroup(this.pid, this.exited, gracefulTimeoutMs);
  }

  kill(): void {
    killProcessGroup(this.pid, 'SIGKILL');
  }

  async #watchExit(reported: Promise<ProcessExit>): Promise<ProcessExit> {
    const sockets = Object.values(this.#streams);
    const closed = Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.once('close', resolve))));
    const protoClosed = new Promise<void>((resolve) => this.#streams.proto.once('close', resolve));
    let settled = false;
    const result = await Promise.race([reported, zombieExit(this.pid, protoClosed, () => settled)]);
    settled = true;
    // Frames and log lines written just before exit (a `fatal`, a traceback) may still be in the sockets.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, DRAIN_AFTER_EXIT_MS).unref())]);
    // A tool's child process may still hold the log streams: they are not the worker's any more.
    for (const socket of sockets) socket.destroy();
    untrackProcess(this.pid);
    return result;
  }
}

/** How long after its socket closed a forked worker's exit may go unreported before /proc is asked. */
const UNREPORTED_EXIT_MS = 1_000;

/**
 * The exit of a forked worker whose template does not report it (hung, stopped): once its socket
 * closed, a zombie's wait status in /proc/<pid>/stat (field 52), asked every second until `done()`.
 */
async function zombieExit(pid: number, closed: Promise<void>, done: () => boolean): Promise<ProcessExit> {
  await closed;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, UNREPORTED_EXIT_MS).unref());
    if (done()) return new Promise<never>(() => {}); // reported meanwhile
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // reaped: its parent's report (or the parent's own death) settles it
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z') continue;
    const status = Number(fields[49]);
    const signal = status & 0x7f;
    return signal === 0 ? { exitCode: (status >> 8) & 0xff, signal: null } : { exitCode: null, signal: signalName(signal) };
  }
}

function signalName(signal: number): string {
  return Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] ?? String(signal);
}
