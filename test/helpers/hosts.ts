// Child host processes for the no-orphans tests, and /proc look-ups of a run's processes.
import { execa, type ResultPromise } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { extractRunId } from '../../src/process/run-id.js';
import { processAlive, TRANSPORT } from './pool.js';

const HOST_SCRIPT = path.resolve('test/fixtures/scripts/pool-host.mjs');

export interface ChildHost {
  child: ResultPromise<{ reject: false; timeout: 60_000 }>;
  runId: string;
  pids: number[];
  /** Processes a tool started (HOST_SPAWN_CHILD=1). */
  children: number[];
  /** What the tool named by HOST_CALL returned, as printed ('' without HOST_CALL). */
  called: string;
}

/** Starts `pool-host.mjs` (a pool of 2 through the built package) and waits for its ready line. */
export async function startHost(env: Record<string, string> = {}): Promise<ChildHost> {
  const child = execa(process.execPath, [HOST_SCRIPT], { env: { SNAKEPIT_TEST_TRANSPORT: TRANSPORT, ...env }, reject: false, timeout: 60_000 });
  const ready = await new Promise<Omit<ChildHost, 'child'>>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready run=(\w+) pids=([\d,]+) children=([\d,]*) called=(\S*)\n/.exec(out);
      if (m?.[1] && m[2]) resolve({ runId: m[1], pids: m[2].split(',').map(Number), children: m[3] ? m[3].split(',').map(Number) : [], called: m[4] ?? '' });
    });
    void child.then((r) => reject(new Error(`host exited before ready: ${r.stderr}`)));
  });
  return { child, ...ready };
}

/** Pids of live (non-zombie) processes whose command line carries `runId`. */
export function processesOfRun(runId: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const state = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state !== 'Z' && extractRunId(argv) === runId) found.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/**
 * True once nothing of the run is left: no process carries `runId` and none of `pids` is alive. Both
 * checks are needed: an exiting process drops its command line (so the scan no longer sees it) a
 * moment before it turns into a zombie.
 */
export function runGone(runId: string, pids: readonly number[]): boolean {
  return processesOfRun(runId).length === 0 && !pids.some(processAlive);
}

/** Polls `condition` until it holds; rejects after `timeoutMs`. For process states no event reports. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
