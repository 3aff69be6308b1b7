/**
 * Finding the running instances on this machine: every control socket in the per-user runtime
 * folder whose host is alive is asked for its `/status`. A socket left by a host that died, one
 * that does not answer in time, or one that answers nonsense is skipped, never an error.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { ProcReader } from '../process/proc.js';
import { systemProc } from '../process/process-table.js';
import { hostAlive, readRecord, recordPath, registryDir } from '../process/registry.js';
import { runsRoot } from '../process/run-dir.js';
import { isRunId } from '../process/run-id.js';
import { controlDir } from './server.js';
import type { InstanceSnapshot } from './snapshot.js';

/** A refused socket at least this old is a dead host's leftover and is removed, in ms. @default 60000 */
export const STALE_SOCKET_AGE_MS = 60_000;

/** How long one instance may take to answer `/status`, in ms. @default 2000 */
export const DEFAULT_QUERY_TIMEOUT_MS = 2_000;

/** Options of `discoverInstances`. */
export interface DiscoverOptions {
  /** Runtime folder to look in. @default runsRoot() */
  root?: string;
  /** @default DEFAULT_QUERY_TIMEOUT_MS */
  timeoutMs?: number;
  proc?: ProcReader;
}

/** Control sockets in `root` whose host is not known to be dead. */
export function listControlSockets(root: string = runsRoot(), proc: ProcReader = systemProc()): string[] {
  let names: string[];
  try {
    names = readdirSync(controlDir(root));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.sock') && isRunId(n.slice(0, -'.sock'.length)))
    .filter((n) => {
      // The run registry knows the host pid; without a record (registry off) the connect decides.
      const record = readRecord(recordPath(registryDir(root), n.slice(0, -'.sock'.length)));
      return record === undefined || hostAlive(record, proc);
    })
    .sort()
    .map((n) => path.join(controlDir(root), n));
}

/** Snapshots of every live instance on this machine, oldest run first; [] when none. */
export async function discoverInstances(options: DiscoverOptions = {}): Promise<InstanceSnapshot[]> {
  const sockets = listControlSockets(options.root, options.proc);
  const answers = await Promise.all(
    sockets.map((s) =>
      fetchStatus(s, options.timeoutMs).catch((error: unknown) => {
        removeIfStale(s, error);
        return undefined;
      }),
    ),
  );
  return answers.filter((a): a is InstanceSnapshot => a !== undefined).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/**
 * Removes a socket nobody listens on (a host killed before it could remove it). Only an old one:
 * a starting host binds the file a moment before it listens, and a connect in between is refused too.
 */
function removeIfStale(socketPath: string, error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED') return;
  try {
    if (Date.now() - statSync(socketPath).mtimeMs >= STALE_SOCKET_AGE_MS) rmSync(socketPath, { force: true });
  } catch {
    // gone meanwhile
  }
}

/** GET `/status` on one control socket; rejects when it does not answer with a snapshot in time. */
export function fetchStatus(socketPath: string, timeoutMs: number = DEFAULT_QUERY_TIMEOUT_MS): Promise<InstanceSnapshot> {
  return getText(socketPath, '/status', timeoutMs).then((text) => {
    const value = JSON.parse(text) as InstanceSnapshot;
    if (typeof value !== 'object' || value === null || typeof value.runId !== 'string' || !Array.isArray(value.pools)) throw new Error(`${socketPath}: not a status snapshot`);
    return value;
  });
}

/** GET `path` on a control socket and resolve with the body of a 200 answer. */
export function getText(socketPath: string, urlPath: string, timeoutMs: number = DEFAULT_QUERY_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: urlPath, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`${socketPath}${urlPath}: HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${socketPath}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
