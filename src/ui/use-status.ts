/** The dashboard's data: polls a source of snapshots and keeps a short history of calls/s per pool. */
import { useEffect, useState } from 'react';
import type { InstanceSnapshot } from '../control/snapshot.js';

/** Where the dashboard gets its snapshots (`discoverInstances` in the CLI, a fake in tests). */
export type StatusSource = () => Promise<InstanceSnapshot[]>;

/** Samples of calls/s kept per pool for the sparkline. @default 30 */
export const DEFAULT_HISTORY_LENGTH = 30;

/** What the dashboard renders. */
export interface StatusState {
  instances: InstanceSnapshot[];
  /** calls/s samples by `historyKey(runId, pool)`, oldest first. */
  history: ReadonlyMap<string, readonly number[]>;
  /** Polls completed (0: still waiting for the first answer). */
  polls: number;
  /** Message of the last failed poll, cleared by the next good one. */
  error: string | undefined;
}

/** Key of one pool's history. */
export function historyKey(runId: string, pool: string): string {
  return `${runId}/${pool}`;
}

/** Adds one poll's calls/s to the history, dropping pools that are gone. */
export function appendHistory(history: ReadonlyMap<string, readonly number[]>, instances: readonly InstanceSnapshot[], length = DEFAULT_HISTORY_LENGTH): Map<string, number[]> {
  const next = new Map<string, number[]>();
  for (const sp of instances) {
    for (const pool of sp.pools) {
      const key = historyKey(sp.runId, pool.name);
      next.set(key, [...(history.get(key) ?? []), pool.calls.callsPerSec].slice(-length));
    }
  }
  return next;
}

/**
 * Polls `source` every `intervalMs` (the next poll starts after the previous one ended, so a slow
 * host never piles up requests) until the component unmounts.
 */
export function useStatusPoll(source: StatusSource, intervalMs: number): StatusState {
  const [state, setState] = useState<StatusState>({ instances: [], history: new Map(), polls: 0, error: undefined });
  useEffect(() => {
    let timer: NodeJS.Timeout | undefined;
    let live = true;
    const poll = async (): Promise<void> => {
      try {
        const instances = await source();
        if (live) setState((s) => ({ instances, history: appendHistory(s.history, instances), polls: s.polls + 1, error: undefined }));
      } catch (error) {
        if (live) setState((s) => ({ ...s, polls: s.polls + 1, error: (error as Error).message }));
      }
      if (live) timer = setTimeout(() => void poll(), intervalMs);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [source, intervalMs]);
  return state;
}
