// No orphans in fork mode: the template dies with a SIGKILLed host and its forked workers with it; a
// forked worker that survives (stuck, its PDEATHSIG cleared) is reaped by the next start, from the
// registry or from the /proc scan of command lines. (A forked worker's tool child: orphans.test.ts.)
import { readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { recordPath, registryDir } from '../../src/process/registry.js';
import { processesOfRun, runGone, startHost, waitUntil } from '../helpers/hosts.js';
import { processAlive, startPool } from '../helpers/pool.js';

/** CPU time a process used so far, in clock ticks (utime + stime of /proc/<pid>/stat). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const FORK_HOST = { SNAKEPIT_TEST_START_MODE: 'fork', SNAKEPIT_TEST_ADAPTER: 'fork_adapter.ForkAdapter' };

/** The host's template: the one process of its run that is not a worker. */
function templateOf(host: { runId: string; pids: number[] }): number {
  const others = processesOfRun(host.runId).filter((pid) => !host.pids.includes(pid));
  expect(others).toHaveLength(1);
  return others[0]!;
}

describe('kill -9 of a fork-mode host', () => {
  it('takes the template and every forked worker with it', async () => {
    const host = await startHost(FORK_HOST);
    const template = templateOf(host);
    expect(host.pids).toHaveLength(2);
    host.child.kill('SIGKILL');
    await waitUntil(() => runGone(host.runId, [template, ...host.pids]), 2_000, 'template and forked workers gone');
  });
});

describe('a forked worker that outlives its dead host', () => {
  it.each([
    ['its run registry', false],
    ['the /proc scan of command lines', true],
  ])('is reaped by the next start, found through %s', async (_how, withoutRegistry) => {
    // The worker clears its PDEATHSIG and wedges in C code holding the GIL: it sees neither its
    // template's death nor its closed socket, and runs no signal handler.
    const host = await startHost({ ...FORK_HOST, HOST_CALL: 'wedge' });
    const stuck = Number(host.called);
    expect(host.pids).toContain(stuck);
    try {
      const spinning = cpuTicks(stuck) + 10;
      await waitUntil(() => cpuTicks(stuck) > spinning, 5_000, 'the worker wedged');
      host.child.kill('SIGKILL');
      await waitUntil(() => processesOfRun(host.runId).join() === String(stuck), 5_000, 'all but the stuck worker gone');
      if (withoutRegistry) rmSync(recordPath(registryDir(), host.runId), { force: true });
      const { sp } = await startPool();
      try {
        // This start (or one of a concurrent test file) reaps it: SIGTERM, then SIGKILL after the grace.
        await waitUntil(() => !processAlive(stuck), 10_000, 'stuck forked worker reaped');
      } finally {
        await sp.stop();
      }
    } finally {
      if (processAlive(stuck)) process.kill(stuck, 'SIGKILL');
    }
  });
});
