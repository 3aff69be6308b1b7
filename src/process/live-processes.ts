/**
 * Every Python process this host spawned and has not yet seen exit: killed when the host exits,
 * and mirrored into the on-disk registry of its run so the next start can reap it if this host
 * dies without stopping it.
 */
import { registryDir, RunRegistry } from './registry.js';
import { generateRunId } from './run-id.js';

/** Live pids, with the run each belongs to (undefined for a worker spawned without a run id). */
const live = new Map<number, string | undefined>();
const registries = new Map<string, RunRegistry>();
const forcedKillListeners = new Set<(pid: number) => void>();
let hooked = false;

/** Kills a process group (falls back to the single process), ignoring ones already gone. */
export function killProcessGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // 'exit' handlers must be synchronous: SIGKILL is the only thing that still works here.
  process.on('exit', () => {
    for (const pid of live.keys()) killProcessGroup(pid, 'SIGKILL');
    // Every recorded worker just got SIGKILL: nothing is left for a later start to reap.
    for (const registry of registries.values()) registry.discard();
  });
}

/** Starts tracking a spawned worker's group; with `runId`, records it in that run's registry. */
export function trackProcess(pid: number, runId?: string): void {
  live.set(pid, runId);
  if (runId !== undefined) registries.get(runId)?.add(pid);
  hookExit();
}

/** Stops tracking a group whose leader exited. */
export function untrackProcess(pid: number): void {
  const runId = live.get(pid);
  live.delete(pid);
  if (runId === undefined) return;
  const registry = registries.get(runId);
  registry?.remove(pid);
  if (registry?.done) registries.delete(runId);
}

/** Pids of the worker processes still alive (for tests and status); of one run when given. */
export function liveProcessIds(runId?: string): number[] {
  return [...live].filter(([, run]) => runId === undefined || run === runId).map(([pid]) => pid);
}

/** Makes the registry of a run follow that run's workers. */
export function attachRegistry(registry: RunRegistry): void {
  registries.set(registry.runId, registry);
  hookExit();
}

/** The run stopped: its registry file goes once its last worker is gone. */
export function closeRegistry(runId: string): void {
  const registry = registries.get(runId);
  registry?.close();
  if (registry?.done) registries.delete(runId);
}

/** Run ids of the registries this process holds (never reaped by its own sweeps). */
export function ownRunIds(): string[] {
  return [...registries.keys()];
}

/** How a stopped process ended (a worker's, or a fork template's). */
export interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
}

/**
 * SIGTERM to the group of `pid`, SIGKILL after `gracefulTimeoutMs` (noted as a forced kill);
 * resolves with `exited` once the process is gone.
 */
export async function stopProcessGroup(pid: number, exited: Promise<ProcessExit>, gracefulTimeoutMs: number): Promise<ProcessExit> {
  killProcessGroup(pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      killProcessGroup(pid, 'SIGKILL');
      noteForcedKill(pid);
      resolve();
    }, gracefulTimeoutMs);
  });
  await Promise.race([exited, forced]);
  clearTimeout(timer);
  return exited;
}

/** Called by the stop path when a worker did not exit within its grace and got SIGKILL. */
export function noteForcedKill(pid: number): void {
  for (const listener of forcedKillListeners) listener(pid);
}

/** Listens for forced kills (`Snakepit.cleanup()` reports them); returns the unsubscribe function. */
export function onForcedKill(listener: (pid: number) => void): () => void {
  forcedKillListeners.add(listener);
  return () => forcedKillListeners.delete(listener);
}

/** A new run: its id and, when the runtime folder is usable, its registry file. */
export interface OpenRun {
  runId: string;
  /** Why there is no registry (the folder is unusable); workers then still die with the host. */
  registryError?: Error;
}

/**
 * Picks a run id no other run holds (its registry file is created exclusively) and makes the
 * registry follow the run's workers. Without a usable folder, the run goes on unregistered.
 */
export function openRun(dir: string = registryDir()): OpenRun {
  for (let attempt = 0; attempt < 8; attempt++) {
    const runId = generateRunId();
    let registry: RunRegistry | undefined;
    try {
      registry = RunRegistry.claim(runId, dir);
    } catch (error) {
      return { runId, registryError: error as Error };
    }
    if (registry) {
      attachRegistry(registry);
      return { runId };
    }
  }
  return { runId: generateRunId(), registryError: new Error(`no free run id in ${dir}`) };
}
