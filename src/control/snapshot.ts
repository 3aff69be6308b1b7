/** The control endpoint's `/status` document: one instance's pools, workers and recent call rates. */
import type { PoolHealth } from '../pool/health.js';
import { readRssMb } from '../pool/lifecycle.js';
import type { PoolStats, WorkerInfo } from '../pool/pool-types.js';
import type { ResolvedConfig } from '../config/index.js';
import type { CallRates } from '../pool/call-window.js';

/** Bumped when a field changes meaning, so `snakepit status` can tell an older host. */
export const SNAPSHOT_VERSION = 1;

/** A worker as `/status` shows it: `listWorkers()` plus the Python process's memory. */
export interface WorkerSnapshot extends WorkerInfo {
  /** Resident memory of the Python process in MiB (`VmRSS`); null when unreadable (attached, gone, not Linux). */
  rssMb: number | null;
}

/** One pool in `/status`. */
export interface PoolSnapshot {
  name: string;
  profile: string;
  transport: string;
  /** Configured worker slots. */
  size: number;
  stats: PoolStats;
  health: PoolHealth;
  /** Calls/s and latency over the recent window. */
  calls: CallRates;
  workers: WorkerSnapshot[];
}

/** One running instance in `/status`. */
export interface InstanceSnapshot {
  version: number;
  runId: string;
  /** The host process. */
  pid: number;
  /** When the control endpoint started (pools ready), ISO 8601. */
  startedAt: string;
  /** When this snapshot was taken, ms since the epoch. */
  takenAt: number;
  pools: PoolSnapshot[];
}

/** What a snapshot reads from an instance (a `Snakepit` is one). */
export interface SnapshotSource {
  readonly runId: string;
  readonly config: ResolvedConfig;
  readonly poolNames: string[];
  stats(pool: string): PoolStats;
  health(pool: string): PoolHealth;
  listWorkers(pool: string): WorkerInfo[];
  pool(name: string): { recentCalls(): CallRates };
}

/** Takes a snapshot of `source`; RSS is read from /proc for every worker with a pid. */
export async function takeSnapshot(source: SnapshotSource, startedAt: string): Promise<InstanceSnapshot> {
  const pools = await Promise.all(
    source.poolNames.map(async (name): Promise<PoolSnapshot> => {
      const config = source.config.pools.find((p) => p.name === name);
      const workers = await Promise.all(
        source.listWorkers(name).map(async (w) => ({ ...w, rssMb: w.pid === undefined ? null : round((await readRssMb(w.pid)) ?? null) })),
      );
      const health = source.health(name);
      return {
        name,
        profile: config?.workerProfile ?? 'process',
        transport: config?.transport ?? 'pipe',
        // The health's size, not `poolSize`: attached workers and the crash barrier change it.
        size: health.size,
        stats: source.stats(name),
        health,
        calls: source.pool(name).recentCalls(),
        workers,
      };
    }),
  );
  return { version: SNAPSHOT_VERSION, runId: source.runId, pid: process.pid, startedAt, takenAt: Date.now(), pools };
}

function round(mb: number | null): number | null {
  return mb === null ? null : Math.round(mb * 10) / 10;
}
