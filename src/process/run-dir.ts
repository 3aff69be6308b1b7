/** The per-run folder (0700) for Unix sockets: the host's endpoint and the gRPC workers'. */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir, runtimeDir } from './registry.js';

/** Base folder of all runs of this user (the runtime folder, see `runtimeDir`). */
export function runsRoot(): string {
  return runtimeDir();
}

/** Creates (0700) and returns the folder of one run. */
export function createRunDir(runId: string): string {
  const root = runsRoot();
  ensurePrivateDir(root);
  const dir = path.join(root, runId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Removes a run's folder and everything in it. */
export function removeRunDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
