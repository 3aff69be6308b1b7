/** The per-run folder (0700) for Unix sockets: the host's endpoint and the gRPC workers'. */
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Base folder of all runs of this user: $XDG_RUNTIME_DIR, else the temp dir. */
export function runsRoot(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return path.join(process.env.XDG_RUNTIME_DIR ?? os.tmpdir(), `snakepit-${uid}`);
}

/** Creates (0700) and returns the folder of one run. */
export function createRunDir(runId: string): string {
  const dir = path.join(runsRoot(), runId);
  mkdirSync(runsRoot(), { recursive: true, mode: 0o700 });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Removes a run's folder and everything in it. */
export function removeRunDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
