/**
 * The on-disk registry of spawned workers: one JSON file per run (host instance) in a per-user
 * runtime folder, so that the next start can find — and reap — the workers of a host that died
 * without stopping them. Writes are atomic (written aside, then renamed), so a reader never sees
 * half a file, whatever happens to the writer.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, lstatSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRunId } from './run-id.js';
import { comparableStartTimes, ownStartTime, type ProcReader } from './proc.js';
import { systemProc } from './process-table.js';

/** A worker process as recorded. */
export interface WorkerRecord {
  pid: number;
  /** Its process group (the worker leads its own group, so normally the pid). */
  pgid: number;
  /** /proc start time, to tell it from a later process that reuses the pid; null without /proc. */
  startTime: string | null;
  /** When it was recorded (ISO 8601); absent in files of older versions. */
  startedAt?: string;
}

/** One run's file. */
export interface RunRecord {
  version: 1;
  runId: string;
  hostPid: number;
  /** The host's /proc start time: a live pid with another start time is not the host. */
  hostStartTime: string | null;
  createdAt: string;
  workers: WorkerRecord[];
}

const uid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);

/**
 * The per-user runtime folder: `$XDG_RUNTIME_DIR/snakepit` when `XDG_RUNTIME_DIR` is set and
 * writable, else `<os.tmpdir()>/snakepit-<uid>`. Holds the registry and the runs' socket folders.
 */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && path.isAbsolute(xdg)) {
    try {
      accessSync(xdg, constants.W_OK | constants.X_OK);
      return path.join(xdg, 'snakepit');
    } catch {
      // not ours or not writable: fall back to the temp dir
    }
  }
  return path.join(os.tmpdir(), `snakepit-${uid() ?? 'user'}`);
}

/**
 * Creates `dir` (0700) if needed and checks that it is a real folder owned by this user — a shared
 * temp dir lets others pre-create names, and we must not write pid files into their folder.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const info = lstatSync(dir);
  const me = uid();
  if (!info.isDirectory() || (me !== undefined && info.uid !== me)) {
    throw new Error(`${dir} is not a folder owned by uid ${String(me)}`);
  }
  if ((info.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** The registry folder inside a runtime folder. */
export function registryDir(root: string = runtimeDir()): string {
  return path.join(root, 'registry');
}

/** Path of a run's file. */
export function recordPath(dir: string, runId: string): string {
  return path.join(dir, `${runId}.json`);
}

/** Writes `record` next to `file`, then renames it over `file` (atomic on one file system). */
export function writeRecordAtomic(file: string, record: RunRecord): void {
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(aside, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    renameSync(aside, file);
  } catch (error) {
    rmSync(aside, { force: true });
    throw error;
  }
}

function isWorkerRecord(value: unknown): value is WorkerRecord {
  const w = value as WorkerRecord;
  return typeof w === 'object' && w !== null && Number.isInteger(w.pid) && w.pid > 0 && Number.isInteger(w.pgid) && (w.startTime === null || typeof w.startTime === 'string');
}

/** Parses a run file; undefined when it is not one (foreign or damaged). */
export function parseRecord(text: string): RunRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = value as RunRecord;
  if (typeof r !== 'object' || r === null || r.version !== 1 || typeof r.runId !== 'string' || !isRunId(r.runId)) return undefined;
  if (!Number.isInteger(r.hostPid) || r.hostPid <= 0 || !Array.isArray(r.workers) || !r.workers.every(isWorkerRecord)) return undefined;
  if (r.hostStartTime !== null && typeof r.hostStartTime !== 'string') return undefined;
  return r;
}

/** Reads one run file; undefined when missing or damaged. */
export function readRecord(file: string): RunRecord | undefined {
  try {
    return parseRecord(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** An entry of the registry folder. */
export interface RegistryEntry {
  file: string;
  /** Undefined for a damaged file. */
  record: RunRecord | undefined;
}

/** Every run file in `dir`. Throws when `dir` exists but cannot be read (ENOENT reads as empty). */
export function listRecords(dir: string): RegistryEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.filter((n) => n.endsWith('.json')).map((n) => ({ file: path.join(dir, n), record: readRecord(path.join(dir, n)) }));
}

/** Removes files a writer left aside when it died between write and rename (older than `ageMs`). */
export function removeStaleAsideFiles(dir: string, ageMs = 60_000, now = Date.now()): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.endsWith('.tmp'))) {
    const file = path.join(dir, name);
    try {
      if (now - statSync(file).mtimeMs > ageMs) rmSync(file, { force: true });
    } catch {
      // gone meanwhile
    }
  }
}

/** Whether the host of `record` is still running (same pid and, with /proc, same start time). */
export function hostAlive(record: RunRecord, proc: ProcReader = systemProc()): boolean {
  if (!proc.available) {
    try {
      process.kill(record.hostPid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  const stat = proc.stat(record.hostPid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  // Start times of another reader kind (a file written with /proc, read with ps) cannot tell: alive.
  return record.hostStartTime === null || !comparableStartTimes(record.hostStartTime, stat.startTime) || stat.startTime === record.hostStartTime;
}

/** The file of one live run, kept in step with its workers as they spawn and exit. */
export class RunRegistry {
  readonly #record: RunRecord;
  readonly #proc: ProcReader;
  #closing = false;
  #closed = false;

  private constructor(
    readonly file: string,
    record: RunRecord,
    proc: ProcReader,
  ) {
    this.#record = record;
    this.#proc = proc;
  }

  /**
   * Claims `runId` in `dir` by creating its file exclusively; undefined when that run id is taken
   * (the caller picks another). Throws when the folder is unusable.
   */
  static claim(runId: string, dir: string, proc: ProcReader = systemProc()): RunRegistry | undefined {
    ensurePrivateDir(path.dirname(dir));
    ensurePrivateDir(dir);
    const file = recordPath(dir, runId);
    try {
      closeSync(openSync(file, 'wx', 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw error;
    }
    const record: RunRecord = { version: 1, runId, hostPid: process.pid, hostStartTime: ownStartTime(proc) ?? null, createdAt: new Date().toISOString(), workers: [] };
    const registry = new RunRegistry(file, record, proc);
    registry.#write();
    return registry;
  }

  get runId(): string {
    return this.#record.runId;
  }

  /** True once the file is gone (closed with no worker left, or discarded). */
  get done(): boolean {
    return this.#closed;
  }

  /** Pids recorded and not yet seen exit. */
  get pids(): number[] {
    return this.#record.workers.map((w) => w.pid);
  }

  /** Records a spawned worker (its own group leader unless `pgid` says otherwise). */
  add(pid: number, pgid: number = pid): void {
    if (this.#record.workers.some((w) => w.pid === pid)) return;
    this.#record.workers.push({ pid, pgid, startTime: this.#proc.available ? (this.#proc.stat(pid)?.startTime ?? null) : null, startedAt: new Date().toISOString() });
    this.#write();
  }

  /** Forgets a worker that exited. */
  remove(pid: number): void {
    const before = this.#record.workers.length;
    this.#record.workers = this.#record.workers.filter((w) => w.pid !== pid);
    if (this.#record.workers.length === before) return;
    if (this.#closing && this.#record.workers.length === 0) this.discard();
    else this.#write();
  }

  /**
   * The run ended: removes the file once no worker is recorded. While some still are, the file
   * stays (and follows their exits), so the next start can reap them if this host dies first.
   */
  close(): void {
    this.#closing = true;
    if (this.#record.workers.length === 0) this.discard();
  }

  /** Removes the file whatever it holds (the host is exiting after SIGKILLing the workers). */
  discard(): void {
    this.#closed = true;
    rmSync(this.file, { force: true });
  }

  #write(): void {
    if (this.#closed) return;
    try {
      writeRecordAtomic(this.file, this.#record);
    } catch {
      // A full or vanished folder must not fail a worker spawn; the pipe EOF and PDEATHSIG still
      // end the workers with this host, only the next start's sweep loses its list.
    }
  }
}
