/**
 * Zero-copy transfers through POSIX shared memory (docs/protocol.md, ext 3). A binary or tensor of
 * at least `thresholdBytes` is written to a file in `/dev/shm` (memory-backed, no disk) and only a
 * reference travels in the frame. Node has no mmap in core, so the host writes and reads these files
 * with one `write`/`read` each (a kernel memcpy); Python maps them (`np.frombuffer` over the mapping).
 *
 * Ownership: the reader removes a file once it has it. Python's files are read and unlinked by the
 * host while it decodes the frame; the host's own files (call arguments) are unlinked when the call
 * ends (Python keeps its mapping, which outlives the name). Names are
 * `snakepit-<run id>-<creator pid>-<n>`, so a dead worker's files are removed by pid, `stop()`
 * removes the run's, and the start-up reaper removes those whose creator is gone (a host crash).
 */
import { closeSync, openSync, readdirSync, readSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Where shared-memory files live. */
export const SHM_DIR = '/dev/shm';
/** ext type of a shared-memory reference: `[name, size, dtype | nil, shape | nil, order]`. */
export const SHM_EXT_TYPE = 3;

// A peer may only name snakepit's own files, never a path.
const NAME = /^snakepit-([0-9a-z]{7})-(\d+)-\d+$/;

/** Zero-copy settings of one transport (config `zeroCopy` plus the run id). */
export interface ZeroCopySettings {
  /** Binaries and tensors of at least this many bytes go through `/dev/shm`. @default 1048576 */
  thresholdBytes: number;
  /** The host's run id: part of every file name. */
  runId: string;
}

let counter = 0;

/** Name prefix of a run's files (also the `SNAKEPIT_SHM_PREFIX` Python gets). */
export function shmPrefix(runId: string): string {
  return `snakepit-${runId}-`;
}

/** Whether shared memory is usable here (Linux `/dev/shm`). */
export function shmAvailable(): boolean {
  try {
    return statSync(SHM_DIR).isDirectory();
  } catch {
    return false;
  }
}

/** Writes `bytes` to a new shm file of this run; returns its name. */
export function exportBytes(runId: string, bytes: Uint8Array): string {
  const name = `${shmPrefix(runId)}${process.pid}-${++counter}`;
  const fd = openSync(join(SHM_DIR, name), 'wx', 0o600);
  try {
    let offset = 0;
    while (offset < bytes.byteLength) offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
  } catch (error) {
    closeSync(fd);
    removeShm(name); // /dev/shm full (ENOSPC): leave nothing half-written behind
    throw error;
  }
  closeSync(fd);
  return name;
}

/** Reads the shm file `name` (`size` bytes) into a fresh aligned buffer and unlinks it. */
export function importBytes(name: string, size: number): Buffer {
  // Checked before the finally: a name from a frame must never make us unlink outside /dev/shm's own files.
  if (!NAME.test(name)) throw new RangeError(`invalid shared-memory reference '${name}'`);
  try {
    return readBytes(name, size);
  } finally {
    removeShm(name);
  }
}

/** Reads the shm file `name` (`size` bytes) into a fresh aligned buffer, leaving the file. */
export function readBytes(name: string, size: number): Buffer {
  if (!NAME.test(name)) throw new RangeError(`invalid shared-memory reference '${name}'`);
  const path = join(SHM_DIR, name);
  // allocUnsafeSlow: a buffer of its own at offset 0, so any typed array can view it.
  const buffer = Buffer.allocUnsafeSlow(size);
  const fd = openSync(path, 'r');
  try {
    let offset = 0;
    while (offset < size) {
      const n = readSync(fd, buffer, offset, size - offset, offset);
      if (n === 0) throw new RangeError(`shared-memory file '${name}' has ${offset} bytes, the reference says ${size}`);
      offset += n;
    }
  } finally {
    closeSync(fd);
  }
  return buffer;
}

/** Removes one shm file, ignoring a missing one. */
export function removeShm(name: string): void {
  try {
    unlinkSync(join(SHM_DIR, name));
  } catch {
    /* already gone */
  }
}

/**
 * Removes this machine's snakepit shm files that `match` selects, given the run id and creator pid
 * parsed from each name. Returns the names removed.
 */
export function sweepShm(match: (runId: string, pid: number) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(SHM_DIR);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = NAME.exec(name);
    if (!m || !match(m[1]!, Number(m[2]))) continue;
    rmSync(join(SHM_DIR, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** Whether a process with this pid exists (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
