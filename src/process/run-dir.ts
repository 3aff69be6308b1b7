/** The per-run folder (0700) for Unix sockets (the host's endpoint, the gRPC workers') and the FIFOs of spawned workers' pipes (made and unlinked at once). */
import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir, runtimeDir } from './registry.js';

/** Base folder of all runs of this user (the runtime folder, see `runtimeDir`). */
export function runsRoot(): string {
  return runtimeDir();
}

/** The folder of one run (it may not exist). */
export function runDirOf(runId: string): string {
  return path.join(runsRoot(), runId);
}

/** Creates (0700) and returns the folder of one run. */
export function createRunDir(runId: string): string {
  ensurePrivateDir(runsRoot());
  const dir = runDirOf(runId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Removes a run's folder and everything in it. */
export function removeRunDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Removes a run's folder when it is empty (other parts of the run may still keep files there). */
export function removeRunDirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (its owner removes it) or already gone
  }
}
