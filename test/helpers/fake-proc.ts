// A process table in memory for the registry and reaper unit tests, with kill() that removes entries.
import type { ProcReader, ProcStat } from '../../src/process/proc.js';

export interface FakeProcess {
  stat: ProcStat;
  cmdline?: string[];
  uid?: number;
  /** Survives SIGTERM (SIGKILL still ends it, unless `unkillable`). */
  ignoresTerm?: boolean;
  unkillable?: boolean;
}

export const stat = (startTime: string, extra: Partial<ProcStat> = {}): ProcStat => ({ state: 'S', ppid: 1, pgrp: 0, startTime, ...extra });

export function fakeProc(table: Record<number, FakeProcess>): ProcReader & { signals: [number, string, boolean][]; kill: (pid: number, signal: NodeJS.Signals, group: boolean) => void } {
  const signals: [number, string, boolean][] = [];
  return {
    available: true,
    signals,
    pids: () => Object.keys(table).map(Number),
    cmdline: (pid) => table[pid]?.cmdline,
    stat: (pid) => table[pid]?.stat,
    uid: (pid) => (table[pid] ? (table[pid].uid ?? process.getuid!()) : undefined),
    kill(pid, signal, group) {
      signals.push([pid, signal, group]);
      const p = table[pid];
      if (!p || p.unkillable) return;
      if (signal === 'SIGKILL' || !p.ignoresTerm) delete table[pid];
    },
  };
}
