/**
 * The public view of the worker registry and the run-id kill: the original's `ProcessRegistry`
 * (which workers of which runs exist, which runs are dead) and `ProcessKiller.kill_by_run_id`.
 */
import { ValidationError } from '../errors.js';
import { ownRunIds } from './live-processes.js';
import { isAlive, type ProcReader } from './proc.js';
import { systemProc } from './process-table.js';
import { killRun, reapDeadRuns, type ReapReport } from './reaper.js';
import { hostAlive, listRecords, registryDir, runtimeDir } from './registry.js';
import { isRunId } from './run-id.js';

/** One recorded worker process. */
export interface RegisteredWorker {
  pid: number;
  /** Its process group (a worker leads its own). */
  pgid: number;
  runId: string;
  /** When the host recorded it (ISO 8601); null in files of older versions. */
  startedAt: string | null;
  /** Still running (and, where the start time is known, the same process). */
  alive: boolean;
}

/** One run (a host instance) in the registry. */
export interface RegisteredRun {
  runId: string;
  hostPid: number;
  /** When the run started (ISO 8601). */
  createdAt: string;
  /** The host still runs: false for a run whose host crashed before stopping its workers. */
  hostAlive: boolean;
  /** A run of this process. */
  own: boolean;
  workers: RegisteredWorker[];
}

/** What `ProcessRegistry.snapshot()` returns. */
export interface RegistrySnapshot {
  runs: RegisteredRun[];
  /** Every recorded worker of every run. */
  workers: RegisteredWorker[];
  /** Runs whose host is gone: the next start (or `ProcessRegistry.reapOrphans()`) reaps their workers. */
  deadRuns: string[];
}

/** Where to look; defaults are the real system. */
export interface RegistryOptions {
  /** Runtime folder. @default runtimeDir() */
  root?: string;
  /** @default the system's process table (/proc, else ps) */
  proc?: ProcReader;
}

/**
 * The registry of this user's runs (every Snakepit host on the machine, this one included) and
 * their worker processes, as the files say and the process table confirms.
 * @example const { workers, deadRuns } = ProcessRegistry.snapshot();
 */
export const ProcessRegistry = {
  snapshot(options: RegistryOptions = {}): RegistrySnapshot {
    const proc = options.proc ?? systemProc();
    const own = new Set(ownRunIds());
    const runs: RegisteredRun[] = [];
    let entries: ReturnType<typeof listRecords> = [];
    try {
      entries = listRecords(registryDir(options.root ?? runtimeDir()));
    } catch {
      // an unreadable registry lists nothing
    }
    for (const { record } of entries) {
      if (!record) continue;
      const workers = record.workers.map((w) => ({
        pid: w.pid,
        pgid: w.pgid,
        runId: record.runId,
        startedAt: w.startedAt ?? null,
        alive: isAlive(proc, w.pid, w.startTime ?? undefined),
      }));
      runs.push({ runId: record.runId, hostPid: record.hostPid, createdAt: record.createdAt, hostAlive: hostAlive(record, proc), own: own.has(record.runId), workers });
    }
    runs.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return { runs, workers: runs.flatMap((r) => r.workers), deadRuns: runs.filter((r) => !r.hostAlive).map((r) => r.runId) };
  },

  /** Reaps the workers of dead runs now, as each start does (`Snakepit.reapOrphans()`). */
  reapOrphans(options: RegistryOptions & { graceMs?: number } = {}): Promise<ReapReport> {
    return reapDeadRuns({ ...options, protectedRunIds: ownRunIds() });
  },
};

/** Stopping worker processes by run id (the original's `ProcessKiller`). */
export const ProcessKiller = {
  /**
   * SIGTERM to every process of this user whose command line carries run `runId` (verified in the
   * process table, never guessed), SIGKILL after `graceMs` (2000). A live host sees its workers
   * crash and replaces them; use it for runs whose host is gone or stuck.
   * @throws {ValidationError} `invalid_argument` for a string that is not a run id.
   */
  async killByRunId(runId: string, options: { graceMs?: number; proc?: ProcReader } = {}): Promise<Omit<ReapReport, 'deadRuns'>> {
    if (!isRunId(runId)) throw new ValidationError(`Not a run id: ${JSON.stringify(runId)}`, 'invalid_argument', { runId });
    return killRun(runId, options);
  },
};
