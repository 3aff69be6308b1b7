/**
 * How many calls one worker of a pool runs at once, and what `capacityStrategy` means here.
 *
 * The original (0.7+) names three strategies. Its documentation: `'pool'` — each pool manages its
 * own capacity; `'profile'` — workers of the same profile share capacity across pools; `'hybrid'`
 * — both. Its code: with `'pool'` and `'hybrid'` the pool counts each worker's in-flight calls
 * up to `threads_per_worker`; `'hybrid'` also books every call in the thread profile's own
 * capacity store (which emits `capacity_reached` telemetry); with `'profile'` the pool treats
 * every worker as one slot and leaves the rest to that store.
 *
 * Here both layers always enforce the limit: the host's scheduler counts each worker's calls
 * against `threadsPerWorker` (plus `pipelineDepth` calls that wait inside the worker), and the
 * Python worker itself runs at most `threadsPerWorker` calls at once (`--max-concurrency`), so
 * pipelined calls wait there without running. That is the original's `'hybrid'`; `'pool'`
 * schedules identically. Pools never share workers (each has its own adapter), so capacity
 * "shared across pools" (`'profile'`) has nothing to share: it is accepted, scheduled like
 * `'pool'`, and noted once in the log.
 */
import type { ResolvedPoolConfig } from '../config/index.js';

/**
 * `pipelineDepth: 'auto'`: calls each worker may hold waiting behind those it runs. Deep enough
 * that a worker always has its next calls at hand and frames travel in batches (one read and one
 * write carry many; measured: depth 1 0.35x the raw pipe's throughput, 2 0.44x, 8 0.76x), and
 * safe: a waiting call can be taken back (`recall`) by a worker that frees first, and keeps its
 * timeout, abort and queue timeout.
 */
export const AUTO_PIPELINE_DEPTH = 8;

/** Calls each worker may hold waiting (the config's `pipelineDepth`, `'auto'` resolved). */
export function pipelineDepth(pool: Pick<ResolvedPoolConfig, 'pipelineDepth'>): number {
  return pool.pipelineDepth === 'auto' ? AUTO_PIPELINE_DEPTH : pool.pipelineDepth;
}

/** Calls one worker runs at once: `threadsPerWorker` in the thread profile, else 1. */
export function workerCapacity(pool: Pick<ResolvedPoolConfig, 'workerProfile' | 'threadsPerWorker'>): number {
  return pool.workerProfile === 'thread' ? pool.threadsPerWorker : 1;
}

/** A line for the log when the pool's `capacityStrategy` is not scheduled as its name says; else undefined. */
export function capacityStrategyNote(pool: Pick<ResolvedPoolConfig, 'name' | 'capacityStrategy'>): string | undefined {
  if (pool.capacityStrategy !== 'profile') return undefined;
  return (
    `Pool ${pool.name}: capacityStrategy 'profile' (capacity shared by the pools of a profile) is scheduled like 'pool': ` +
    'pools do not share workers, so each pool counts the calls of its own workers (guides/threading.md)'
  );
}
