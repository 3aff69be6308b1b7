/**
 * Which process table supervision reads: Linux's /proc, else `ps` (macOS, the BSDs), so that orphan
 * reaping, the registry and `ProcessKiller` verify pids everywhere. `SNAKEPIT_PROCESS_TABLE=ps`
 * forces the `ps` reader (tests run that path on Linux); `=proc` forces /proc.
 */
import { execFileSync } from 'node:child_process';
import { linuxProc, type ProcReader, type ProcStat } from './proc.js';

/** One row of `ps`. */
interface PsRow {
  stat: ProcStat;
  uid: number;
  /** The command line split on blanks: `ps` joins argv with spaces, which is enough for run ids. */
  argv: string[];
}

// POSIX columns that procps and BSD ps both have; `lstart` (start time to the second) tells a
// process from a later one that reuses its pid, as /proc's start ticks do.
const PS_ARGS = ['-A', '-o', 'pid=,ppid=,pgid=,uid=,stat=,lstart=,command='];
const ROW = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\w{3}\s+\w{3}\s+\d+\s+[\d:]+\s+\d{4})\s?(.*)$/;

/** Parses `ps -A -o pid=,ppid=,pgid=,uid=,stat=,lstart=,command=` output run with TZ=UTC. */
export function parsePs(text: string): Map<number, PsRow> {
  const rows = new Map<number, PsRow>();
  for (const line of text.split('\n')) {
    const m = ROW.exec(line);
    if (!m) continue;
    const started = Date.parse(`${m[6]!.replace(/\s+/g, ' ')} GMT`);
    if (Number.isNaN(started)) continue;
    rows.set(Number(m[1]), {
      // ps's state letters are /proc's (`Z` zombie), followed by modifiers (`Ss`, `S<l`).
      stat: { state: m[5]![0]!, ppid: Number(m[2]), pgrp: Number(m[3]), startTime: `ps:${started / 1000}` },
      uid: Number(m[4]),
      argv: m[7]!.split(/\s+/).filter(Boolean),
    });
  }
  return rows;
}

export interface PsReaderOptions {
  /** Runs ps and returns its output; tests pass a fake table. @default `ps` with LC_ALL=C, TZ=UTC */
  run?: () => string;
  /** A table older than this is read again; a sweep's look-ups within it share one run. @default 20 */
  maxAgeMs?: number;
}

/** A `ProcReader` over `ps`. Each read of a table older than `maxAgeMs` runs ps once (about 10 ms). */
export function createPsReader(options: PsReaderOptions = {}): ProcReader & { readonly runs: number } {
  const run = options.run ?? (() => execFileSync('ps', PS_ARGS, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' }, maxBuffer: 64 * 1024 * 1024 }));
  const maxAgeMs = options.maxAgeMs ?? 20;
  let table: Map<number, PsRow> | undefined;
  let readAt = 0;
  let runs = 0;
  let available: boolean | undefined;
  const rows = (fresh = false): Map<number, PsRow> => {
    if (fresh || table === undefined || performance.now() - readAt > maxAgeMs) {
      try {
        table = parsePs(run());
      } catch {
        table = new Map();
      }
      readAt = performance.now();
      runs++;
    }
    return table;
  };
  return {
    get available() {
      // ps that answers and lists this process: its answers can be trusted.
      return (available ??= rows(true).has(process.pid));
    },
    get runs() {
      return runs;
    },
    pids: () => [...rows(true).keys()],
    cmdline: (pid) => rows().get(pid)?.argv,
    stat: (pid) => rows().get(pid)?.stat,
    uid: (pid) => rows().get(pid)?.uid,
  };
}

let psReader: ProcReader | undefined;

/** The process table of this system: /proc where it exists, else `ps`; `SNAKEPIT_PROCESS_TABLE` forces one. */
export function systemProc(): ProcReader {
  const forced = process.env.SNAKEPIT_PROCESS_TABLE;
  if (forced === 'proc' || (forced !== 'ps' && linuxProc.available)) return linuxProc;
  psReader ??= createPsReader();
  // Neither: every answer is "unknown", and nothing is ever signalled on a guess.
  return psReader.available ? psReader : linuxProc;
}
