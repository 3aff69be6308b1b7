/**
 * A spawned pipe worker's fds 3 and 4 as real pipes (FIFOs) instead of the Unix socketpairs that
 * Node's `stdio: 'pipe'` creates. Every frame costs a write and, when the other side sleeps, a
 * wake-up; on a pipe both cost less than on a socket (measured on the development VM, Python
 * on both ends: 0.66 vs 1.0 µs per 40-byte write, 52-56 vs 74-78 µs per round trip through a
 * sleeping reader; guides/benchmarks.md).
 *
 * Node has no `mkfifo`: the two FIFOs are made by the `mkfifo` program in a private folder of
 * the run (0700, the FIFOs 0600), opened here at both ends and unlinked at once, so nothing of
 * them stays on disk. The child inherits its two ends as fds 3 and 4 and the host closes its
 * copies of them, so each direction has one writer and one reader: the host reads EOF when the
 * worker dies and gets EPIPE writing to a dead worker, as with socketpairs.
 * Where this fails (no `mkfifo`, not a Unix) the caller keeps the socketpairs.
 */
import { execa } from 'execa';
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../logger.js';
import { createRunDir } from '../process/run-dir.js';

/** How long `mkfifo` may take before the worker starts on socketpairs instead. */
const MKFIFO_TIMEOUT_MS = 5_000;

/** The two pipes of one worker, open at both ends until `closeChildEnds()` after the spawn. */
export interface ProtocolPipes {
  /** The child's fd 3 (it reads frames from the host) and fd 4 (it writes frames to the host). */
  readonly childFds: readonly [number, number];
  /** The host's end of fd 3's pipe. */
  readonly toPython: Writable;
  /** The host's end of fd 4's pipe. */
  readonly fromPython: Readable;
  /** Closes the host's copies of the child's ends: call once the child was spawned (or failed to be). */
  closeChildEnds(): void;
}

/**
 * Makes and opens the pipes of one worker of run `runId`; undefined (logged at debug) when they
 * cannot be made here: the worker then gets socketpairs.
 */
export async function openProtocolPipes(runId: string, logger: Pick<Logger, 'debug'>): Promise<ProtocolPipes | undefined> {
  let dir: string | undefined;
  const opened: number[] = [];
  try {
    dir = await mkdtemp(path.join(createRunDir(runId), 'pipes-'));
    const toPythonPath = path.join(dir, 'fd3');
    const fromPythonPath = path.join(dir, 'fd4');
    await execa('mkfifo', ['-m', '600', toPythonPath, fromPythonPath], { timeout: MKFIFO_TIMEOUT_MS, stdin: 'ignore' });
    // Read ends first: a non-blocking open of a FIFO for writing fails while nobody reads it.
    const open = (file: string, flags: number): number => {
      const fd = openSync(file, flags | constants.O_NONBLOCK); // O_CLOEXEC too (libuv): no other child inherits it
      opened.push(fd);
      return fd;
    };
    const childReads = open(toPythonPath, constants.O_RDONLY);
    const hostWrites = open(toPythonPath, constants.O_WRONLY);
    const hostReads = open(fromPythonPath, constants.O_RDONLY);
    const childWrites = open(fromPythonPath, constants.O_WRONLY);
    // The child's ends are non-blocking open files here; Python sets them blocking (its own files: these).
    let childEndsOpen = true;
    return {
      childFds: [childReads, childWrites],
      toPython: new net.Socket({ fd: hostWrites, readable: false, writable: true }),
      fromPython: new net.Socket({ fd: hostReads, readable: true, writable: false }),
      closeChildEnds() {
        if (!childEndsOpen) return;
        childEndsOpen = false;
        closeSync(childReads);
        closeSync(childWrites);
      },
    };
  } catch (error) {
    for (const fd of opened) closeSync(fd);
    logger.debug(`Worker pipes as FIFOs unavailable, using socketpairs: ${(error as Error).message}`, { runId });
    return undefined;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
