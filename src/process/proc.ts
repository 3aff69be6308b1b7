/**
 * What the reaper needs to know about other processes, read from Linux's /proc. An interface, so
 * unit tests can inject a fake process table. Without /proc (macOS, Windows) every answer is
 * "unknown", and the reaper then kills nothing: it never signals a pid it cannot verify.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';

/** The fields of /proc/<pid>/stat the reaper uses. */
export interface ProcStat {
  /** One-letter state; `Z` (zombie) and `X` (dead) count as gone. */
  state: string;
  ppid: number;
  /** Process group id. */
  pgrp: number;
  /** Start time in clock ticks after boot: with the pid, it identifies a process across pid reuse. */
  startTime: string;
}

/** Read access to the process table. */
export interface ProcReader {
  /** Whether /proc (or the fake) can be read at all. */
  readonly available: boolean;
  /** Every pid in the table. */
  pids(): number[];
  /** The argument vector, or undefined when the process is gone or unreadable. */
  cmdline(pid: number): string[] | undefined;
  stat(pid: number): ProcStat | undefined;
  /** The owner's uid, or undefined when gone. */
  uid(pid: number): number | undefined;
}

/** Parses the text of /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // Fields after the name: 3 state, 4 ppid, 5 pgrp, ... 22 starttime (1-based, as in proc(5)).
  const fields = text.slice(close + 2).split(' ');
  const [state, ppid, pgrp] = fields;
  const startTime = fields[19];
  if (state === undefined || ppid === undefined || pgrp === undefined || startTime === undefined) return undefined;
  return { state, ppid: Number(ppid), pgrp: Number(pgrp), startTime };
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The real /proc. */
export const linuxProc: ProcReader = {
  available: (() => {
    try {
      statSync('/proc/self/stat');
      return true;
    } catch {
      return false;
    }
  })(),
  pids() {
    try {
      return readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name))
        .map(Number);
    } catch {
      return [];
    }
  },
  cmdline(pid) {
    const text = readOrUndefined(`/proc/${pid}/cmdline`);
    if (text === undefined || text === '') return undefined; // '' for zombies and kernel threads
    return text.replace(/\0$/, '').split('\0');
  },
  stat(pid) {
    const text = readOrUndefined(`/proc/${pid}/stat`);
    return text === undefined ? undefined : parseStat(text);
  },
  uid(pid) {
    try {
      return statSync(`/proc/${pid}`).uid;
    } catch {
      return undefined;
    }
  },
};

/**
 * Whether two start times come from the same kind of reader and can be compared: /proc's ticks
 * after boot and `ps`'s times (`ps:<epoch seconds>`) cannot. Whoever cannot compare must not
 * conclude "another process" (a live host would be taken for dead).
 */
export function comparableStartTimes(a: string, b: string): boolean {
  return a.startsWith('ps:') === b.startsWith('ps:');
}

/** A start time as a number, for ordering (same kind only, see `comparableStartTimes`). */
export function startTimeNumber(startTime: string): bigint {
  return BigInt(startTime.startsWith('ps:') ? startTime.slice(3) : startTime);
}

/** Whether `pid` is a live (not zombie) process; with `startTime`, also that it is the same process. */
export function isAlive(proc: ProcReader, pid: number, startTime?: string): boolean {
  if (!proc.available) return signalZeroAlive(pid);
  const stat = proc.stat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || !comparableStartTimes(stat.startTime, startTime) || stat.startTime === startTime;
}

/** Liveness without /proc: signal 0 (EPERM still means it exists). */
function signalZeroAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This process's start time, or undefined without /proc. */
export function ownStartTime(proc: ProcReader = linuxProc): string | undefined {
  return proc.available ? proc.stat(process.pid)?.startTime : undefined;
}
