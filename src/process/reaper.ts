/**
 * Reaps the workers of dead runs — hosts that crashed or were SIGKILLed before stopping them.
 * Two sources: (a) registry files whose host is dead (their recorded pids, each verified), and
 * (b) a /proc scan for this user's bridge workers whose command line carries a run id no live host
 * holds. A pid is only ever signalled after its command line shows the run id (pids get reused),
 * and a process without a run id is never touched, whatever its name.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { comparableStartTimes, isAlive, startTimeNumber, type ProcReader } from './proc.js';
import { systemProc } from './process-table.js';
import { hostAlive, listRecords, readRecord, recordPath, registryDir, removeStaleAsideFiles, runtimeDir, type RunRecord } from './registry.js';
import { extractRunId, isRunId } from './run-id.js';

/** What one sweep did. */
export interface ReapReport {
  /** Run ids found dead (their registry file, or their workers in the process table). */
  deadRuns: string[];
  /** Pids sent SIGTERM. */
  terminated: number[];
  /** Pids still alive after the grace, sent SIGKILL. */
  killed: number[];
  /** Pids still alive after SIGKILL and its wait. */
  resisted: number[];
}

/** Options of a sweep; every default is the real system. */
export interface ReapOptions {
  /** Runtime folder (registry and run folders). @default runtimeDir() */
  root?: string;
  proc?: ProcReader;
  /** SIGTERM → SIGKILL delay. @default 2000 */
  graceMs?: number;
  /** How long to wait for SIGKILLed processes to vanish. @default 1000 */
  killWaitMs?: number;
  /** Run ids never reaped (this process's own). @default none */
  protectedRunIds?: Iterable<string>;
  /** Sends a signal; `group` means the pid leads a process group to signal as a whole. */
  kill?: (pid: number, signal: NodeJS.Signals, group: boolean) => void;
  logger?: Logger;
}

/**
 * The worker entry points (a forked worker's command line is its template's); a `--run-id` alone is
 * too common a flag to trust without one of them.
 */
const WORKER_MARKERS = ['snakepit_bridge.server', 'snakepit_bridge.fork_template'];
const POLL_MS = 50;

interface Target {
  pid: number;
  runId: string;
  /** Leader of its own group: signal the group, so its children go too. */
  group: boolean;
  /** Start time seen when it was found: a later process reusing the pid is never signalled. */
  startTime: string | null;
  /** Checked again right before SIGKILL: still the process it was, for the reason it was found. */
  verify: () => boolean;
}

const uid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);

function defaultKill(pid: number, signal: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, signal);
  } catch {
    // already gone
  }
}

/** Whether `pid` is, right now, a process of this user whose argv carries `runId`. */
function carriesRunId(proc: ProcReader, pid: number, runId: string, startTime: string | null): boolean {
  const me = uid();
  if (me !== undefined && proc.uid(pid) !== me) return false;
  const stat = proc.stat(pid);
  if (!stat || stat.state === 'Z' || (startTime !== null && stat.startTime !== startTime)) return false;
  const argv = proc.cmdline(pid);
  return argv !== undefined && extractRunId(argv) === runId;
}

/**
 * Registry-recorded workers of a dead host that are verifiably still its workers, and what is left
 * of the process group of a recorded worker that is gone.
 */
function recordedTargets(proc: ProcReader, record: RunRecord, pids: number[]): Target[] {
  const targets: Target[] = [];
  for (const w of record.workers) {
    const stat = proc.stat(w.pid);
    if (stat && carriesRunId(proc, w.pid, record.runId, w.startTime)) {
      const seen = stat.startTime;
      targets.push({ pid: w.pid, runId: record.runId, group: w.pgid === w.pid && stat.pgrp === w.pid, startTime: seen, verify: () => carriesRunId(proc, w.pid, record.runId, seen) });
    } else if (w.pgid === w.pid && w.startTime !== null) {
      targets.push(...strandedMembers(proc, record.runId, w.pgid, w.startTime, pids));
    }
  }
  return targets;
}

/**
 * Members of a dead worker's process group — processes a tool started, which outlive a worker
 * SIGKILLed by PDEATHSIG. A process group id is never handed out again while the group has a
 * member, and while no other process holds the leader's pid the group can only be the worker's
 * (or, after the id was freed, reused and abandoned again, one of processes started after the
 * worker: members must also have started no earlier than the worker itself).
 */
function strandedMembers(proc: ProcReader, runId: string, pgid: number, workerStart: string, pids: number[]): Target[] {
  const me = uid();
  // The pid of the leader belongs to another process now: the group is not the worker's any more.
  // (The worker itself may linger as a zombie where nothing reaps orphans: still its group.)
  const reused = () => {
    const leader = proc.stat(pgid);
    return leader !== undefined && leader.startTime !== workerStart;
  };
  const stillStranded = (pid: number, startTime: string) => {
    if (reused()) return false;
    const stat = proc.stat(pid);
    return !!stat && stat.pgrp === pgid && stat.startTime === startTime && (me === undefined || proc.uid(pid) === me);
  };
  const found: Target[] = [];
  if (reused()) return found;
  for (const pid of pids) {
    const stat = proc.stat(pid);
    if (!stat || pid === pgid || stat.pgrp !== pgid || stat.state === 'Z' || !comparableStartTimes(stat.startTime, workerStart) || startTimeNumber(stat.startTime) < startTimeNumber(workerStart)) continue;
    if (me !== undefined && proc.uid(pid) !== me) continue;
    const seen = stat.startTime;
    found.push({ pid, runId, group: false, startTime: seen, verify: () => stillStranded(pid, seen) });
  }
  return found;
}

/**
 * Finds and stops the workers of dead runs, removes their registry files and run folders, and
 * reports what it did. Never rejects: a sweep that cannot read something skips it.
 */
export async function reapDeadRuns(options: ReapOptions = {}): Promise<ReapReport> {
  const proc = options.proc ?? systemProc();
  const root = options.root ?? runtimeDir();
  const dir = registryDir(root);
  const report: ReapReport = { deadRuns: [], terminated: [], killed: [], resisted: [] };
  let entries;
  try {
    entries = listRecords(dir);
  } catch (error) {
    // Without the registry we cannot tell live runs from dead ones: touch nothing.
    options.logger?.warn(`Orphan sweep skipped: cannot read ${dir}: ${(error as Error).message}`);
    return report;
  }
  removeStaleAsideFiles(dir);
  const liveRuns = new Set(options.protectedRunIds ?? []);
  const deadFiles: { file: string; runId: string }[] = [];
  const targets = new Map<number, Target>();
  let pidList: number[] | undefined;
  const allPids = () => (pidList ??= proc.pids());
  for (const { file, record } of entries) {
    if (!record) {
      // Writes are atomic, so this is no half-written file of a live host: foreign or damaged.
      rmSync(file, { force: true });
      continue;
    }
    if (hostAlive(record, proc)) {
      liveRuns.add(record.runId);
      continue;
    }
    // Without /proc a recorded pid cannot be verified: keep the file while any of them exists.
    if (!proc.available && record.workers.some((w) => isAlive(proc, w.pid))) continue;
    deadFiles.push({ file, runId: record.runId });
    if (proc.available) for (const t of recordedTargets(proc, record, allPids())) targets.set(t.pid, t);
  }
  if (proc.available) for (const t of scanProcesses(proc, dir, liveRuns)) if (!targets.has(t.pid)) targets.set(t.pid, t);

  report.deadRuns = [...new Set([...deadFiles.map((f) => f.runId), ...[...targets.values()].map((t) => t.runId)])];
  if (targets.size > 0) {
    options.logger?.warn(`Stopping ${targets.size} worker process(es) left by dead run(s) ${report.deadRuns.join(', ')}`, { pids: [...targets.keys()] });
    await terminate([...targets.values()], proc, options, report);
  }
  const resisted = new Set(report.resisted);
  for (const { file, runId } of deadFiles) {
    // A worker that survived SIGKILL keeps its file, so a later sweep tries again.
    if ([...targets.values()].some((t) => t.runId === runId && resisted.has(t.pid))) continue;
    rmSync(file, { force: true });
    rmSync(path.join(root, runId), { recursive: true, force: true });
  }
  return report;
}

/** This user's bridge workers whose run id is not a live run's. */
function scanProcesses(proc: ProcReader, dir: string, liveRuns: Set<string>): Target[] {
  const me = uid();
  const found: Target[] = [];
  for (const pid of proc.pids()) {
    if (pid === process.pid || (me !== undefined && proc.uid(pid) !== me)) continue;
    const argv = proc.cmdline(pid);
    if (!argv || !WORKER_MARKERS.some((marker) => argv.includes(marker))) continue;
    const runId = extractRunId(argv);
    if (runId === undefined || !isRunId(runId) || liveRuns.has(runId)) continue;
    // A host that started after we listed the registry has its file by now (it writes it before
    // spawning anything): look again before calling its workers orphans.
    const record = readRecord(recordPath(dir, runId));
    if (record && hostAlive(record, proc)) {
      liveRuns.add(runId);
      continue;
    }
    const stat = proc.stat(pid);
    if (!stat || stat.state === 'Z') continue;
    // Its parent still lives: a host that keeps its registry elsewhere (another XDG_RUNTIME_DIR,
    // another tmpdir), not a dead one. An orphan's parent is init or a subreaper.
    if (hasLiveHostParent(proc, stat.ppid)) continue;
    const seen = stat.startTime;
    found.push({ pid, runId, group: stat.pgrp === pid, startTime: seen, verify: () => carriesRunId(proc, pid, runId, seen) });
  }
  return found;
}

/**
 * Stops every worker of run `runId` (the original's `ProcessKiller.kill_by_run_id`): this user's
 * processes whose command line carries that run id, found in the process table, SIGTERM to their
 * group, SIGKILL after `graceMs`. Whoever hosts the run sees its workers die (and replaces them).
 */
export async function killRun(runId: string, options: Pick<ReapOptions, 'proc' | 'graceMs' | 'killWaitMs' | 'kill'> = {}): Promise<Omit<ReapReport, 'deadRuns'>> {
  const proc = options.proc ?? systemProc();
  const report: ReapReport = { deadRuns: [], terminated: [], killed: [], resisted: [] };
  if (!proc.available) return report; // nothing can be verified: signal nothing
  const targets: Target[] = [];
  for (const pid of proc.pids()) {
    const argv = proc.cmdline(pid);
    if (pid === process.pid || !argv || !WORKER_MARKERS.some((marker) => argv.includes(marker))) continue;
    const stat = proc.stat(pid);
    if (!stat || !carriesRunId(proc, pid, runId, stat.startTime)) continue;
    const seen = stat.startTime;
    targets.push({ pid, runId, group: stat.pgrp === pid, startTime: seen, verify: () => carriesRunId(proc, pid, runId, seen) });
  }
  await terminate(targets, proc, options, report);
  const { deadRuns: _none, ...rest } = report;
  return rest;
}

const REAPER_PARENTS = new Set(['init', 'systemd', 'tini', 'dumb-init', 'docker-init', 'catatonit', 's6-svscan']);

/** True when `ppid` is a live process other than init or a known subreaper (orphans end up there). */
function hasLiveHostParent(proc: ProcReader, ppid: number): boolean {
  if (ppid <= 1 || !isAlive(proc, ppid)) return false;
  const program = proc.cmdline(ppid)?.[0] ?? '';
  return !REAPER_PARENTS.has(program.split('/').at(-1) ?? '');
}

/** SIGTERM, wait up to the grace, SIGKILL the rest, wait again; fills the report. */
async function terminate(targets: Target[], proc: ProcReader, options: Pick<ReapOptions, 'graceMs' | 'killWaitMs' | 'kill'>, report: ReapReport): Promise<void> {
  const kill = options.kill ?? defaultKill;
  for (const t of targets) {
    kill(t.pid, 'SIGTERM', t.group);
    report.terminated.push(t.pid);
  }
  let alive = await waitGone(targets, proc, options.graceMs ?? 2_000);
  // Checked again right before SIGKILL: the pid must still be that worker.
  alive = alive.filter((t) => t.verify());
  for (const t of alive) {
    kill(t.pid, 'SIGKILL', t.group);
    report.killed.push(t.pid);
  }
  alive = await waitGone(alive, proc, options.killWaitMs ?? 1_000);
  report.resisted.push(...alive.map((t) => t.pid));
}

/** Polls until every target is gone or `timeoutMs` passed; returns those still alive. */
export async function waitGone<T extends { pid: number; startTime?: string | null }>(targets: T[], proc: ProcReader, timeoutMs: number): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  const stillThere = (t: T) => isAlive(proc, t.pid, t.startTime ?? undefined);
  let alive = targets.filter(stillThere);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    alive = alive.filter(stillThere);
  }
  return alive;
}

/**
 * Last resort for this host's own workers (tracked pids, so never reused while tracked): SIGKILL
 * each group, wait up to `killWaitMs` for them to vanish. Returns the pids killed and those that
 * survived (a process stuck in the kernel cannot die until it leaves the kernel).
 */
export async function killLeftovers(pids: number[], killWaitMs: number, proc: ProcReader = systemProc()): Promise<{ killed: number[]; resisted: number[] }> {
  const alive = pids.filter((pid) => isAlive(proc, pid));
  for (const pid of alive) killGroup(pid);
  const resisted = await waitGone(alive.map((pid) => ({ pid })), proc, killWaitMs);
  return { killed: alive, resisted: resisted.map((t) => t.pid) };
}

function killGroup(pid: number): void {
  defaultKill(pid, 'SIGKILL', true);
  defaultKill(pid, 'SIGKILL', false);
}
