/**
 * Cleanup events: `snakepit.cleanup.orphans_reaped` after a sweep of dead runs' workers (at start
 * with `rogueCleanup.enabled`, or `Snakepit.reapOrphans()`), `snakepit.cleanup.completed` after
 * `Snakepit.cleanup()` stopped this process's instances.
 */
import { performance } from 'node:perf_hooks';
import type { ReapReport } from '../process/reaper.js';
import type { CleanupResult } from '../script-mode.js';
import { emit, enabled } from './bus.js';

/** What started a cleanup: an instance's start, or an explicit call. */
export type CleanupTrigger = 'startup' | 'manual';

/** Runs a sweep of dead runs and reports what it did. */
export async function traceReap(trigger: CleanupTrigger, reap: () => Promise<ReapReport>): Promise<ReapReport> {
  const startedAt = performance.now();
  const report = await reap();
  if (enabled('snakepit.cleanup.orphans_reaped')) {
    emit(
      'snakepit.cleanup.orphans_reaped',
      { durationMs: performance.now() - startedAt, deadRuns: report.deadRuns.length, terminated: report.terminated.length, killed: report.killed.length, resisted: report.resisted.length },
      { trigger, deadRuns: report.deadRuns },
    );
  }
  return report;
}

/** Runs `Snakepit.cleanup()`'s stop and reports what it did. */
export async function traceCleanup(cleanup: () => Promise<CleanupResult>): Promise<CleanupResult> {
  const startedAt = performance.now();
  const result = await cleanup();
  if (enabled('snakepit.cleanup.completed')) {
    emit('snakepit.cleanup.completed', { durationMs: performance.now() - startedAt, stopped: result.stopped, killed: result.killed.length, resisted: result.resisted.length }, { trigger: 'manual' });
  }
  return result;
}
