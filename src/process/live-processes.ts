/** Every Python process this host spawned and has not yet seen exit: killed when the host exits. */

const live = new Set<number>();
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

/** Starts tracking a spawned worker's group. */
export function trackProcess(pid: number): void {
  live.add(pid);
  if (!hooked) {
    hooked = true;
    // 'exit' handlers must be synchronous: SIGKILL is the only thing that still works here.
    process.on('exit', () => {
      for (const pid of live) killProcessGroup(pid, 'SIGKILL');
    });
  }
}

/** Stops tracking a group whose leader exited. */
export function untrackProcess(pid: number): void {
  live.delete(pid);
}

/** Pids of the worker processes still alive (for tests and status). */
export function liveProcessIds(): number[] {
  return [...live];
}
