// No orphans: workers die with a SIGKILLed host, a stop escalates to SIGKILL, a later start reaps
// what a crashed run left, signals to a library host stop workers gracefully.
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Snakepit } from '../../src/index.js';
import { linuxProc } from '../../src/process/proc.js';
import { recordPath, registryDir, runtimeDir, writeRecordAtomic } from '../../src/process/registry.js';
import { generateRunId } from '../../src/process/run-id.js';
import { processesOfRun, runGone, startHost, waitUntil } from '../helpers/hosts.js';
import { processAlive, startPool } from '../helpers/pool.js';

const PYTHON = path.resolve('.venv/bin/python');
/** A Python process that sleeps (bounded, in case a test dies before its clean-up) with extra argv. */
const sleeper = (args: string[], options: { detached?: boolean; argv0?: string } = {}) =>
  execa(PYTHON, ['-c', 'import time; time.sleep(120)', ...args], { reject: false, ...options });

describe('kill -9 of the host', () => {
  it('leaves no worker of its run alive 2 s later, and the next start finds nothing of it to reap', async () => {
    const host = await startHost();
    expect(host.pids).toHaveLength(2);
    expect(processesOfRun(host.runId).sort()).toEqual([...host.pids].sort());
    host.child.kill('SIGKILL');
    await waitUntil(() => runGone(host.runId, host.pids), 2_000, 'workers of the killed host gone');
    expect((await host.child).signal).toBe('SIGKILL');

    const { sp } = await startPool();
    try {
      expect(sp.startupSweep?.terminated.filter((pid) => host.pids.includes(pid))).toEqual([]);
      // Its registry file (left by the kill) and its run folder are swept.
      expect(existsSync(recordPath(registryDir(), host.runId))).toBe(false);
      expect(existsSync(path.join(runtimeDir(), host.runId))).toBe(false);
    } finally {
      await sp.stop();
    }
  });
});

describe('kill -9 of the host whose tool started a child process', () => {
  it.each([
    ['spawned', { SNAKEPIT_TEST_ADAPTER: 'orphan_adapter.OrphanAdapter' }],
    ['forked', { SNAKEPIT_TEST_ADAPTER: 'fork_adapter.ForkAdapter', SNAKEPIT_TEST_START_MODE: 'fork' }],
  ])('leaves the child to the next start, which reaps it from the dead %s worker\'s process group', async (_mode, env) => {
    const host = await startHost({ ...env, HOST_SPAWN_CHILD: '1' });
    const [child] = host.children;
    expect(processAlive(child!)).toBe(true);
    host.child.kill('SIGKILL');
    await waitUntil(() => runGone(host.runId, host.pids), 2_000, 'workers of the killed host gone');
    const { sp } = await startPool();
    try {
      // This start (or one of a concurrent test file) SIGTERMs it.
      await waitUntil(() => !processAlive(child!), 5_000, 'stranded child reaped');
    } finally {
      await sp.stop();
      if (processAlive(child!)) process.kill(child!, 'SIGKILL');
    }
  });
});

describe('Snakepit.cleanup()', () => {
  it('stops every instance and reports the worker that ignored SIGTERM as SIGKILLed', async () => {
    const stubborn = await startPool({ adapter: 'hang_adapter.HangAdapter', gracefulShutdownTimeoutMs: 300 });
    const polite = await startPool({ adapter: 'echo_adapter.EchoAdapter' });
    const [stubbornPid] = stubborn.sp.listWorkers().map((w) => w.pid!);
    const [politePid] = polite.sp.listWorkers().map((w) => w.pid!);
    await stubborn.sp.execute('ignore_sigterm');
    const result = await Snakepit.cleanup();
    expect(result).toEqual({ stopped: 2, killed: [stubbornPid], resisted: [] });
    expect([stubbornPid!, politePid!].filter(processAlive)).toEqual([]);
    await expect(Snakepit.cleanup()).resolves.toEqual({ stopped: 0, killed: [], resisted: [] });
  });
});

describe('a crashed run left behind', () => {
  it('is reaped on the next start; processes without a run id are never touched', async () => {
    const deadRun = generateRunId();
    // A "worker" of the dead run, leading its own group like real workers.
    const orphan = sleeper(['-m', 'snakepit_bridge.server', '--snakepit-run-id', deadRun], { detached: true });
    // Look-alikes: the worker module without a run id, a process named snakepit, a malformed id.
    const lookAlikes = [
      sleeper(['-m', 'snakepit_bridge.server', '--adapter', 'x.Y']),
      sleeper(['snakepit_bridge.server'], { argv0: 'snakepit' }),
      sleeper(['-m', 'snakepit_bridge.server', '--snakepit-run-id', 'r1']),
    ];
    // A host pid that is gone: a process that already exited.
    const gone = execa(process.execPath, ['-e', '']);
    await gone;
    const orphanPid = orphan.pid!;
    try {
      // Its argv must show the run id before a sweep can recognise it. A sweep of a start in a
      // concurrent test file may reap it at any moment from then on: that is the behaviour under test.
      const exited = () => orphan.exitCode !== null || orphan.signalCode !== null;
      await waitUntil(() => processesOfRun(deadRun).includes(orphanPid) || exited(), 5_000, 'orphan started');
      const file = recordPath(registryDir(), deadRun);
      writeRecordAtomic(file, {
        version: 1,
        runId: deadRun,
        hostPid: gone.pid!,
        hostStartTime: '1',
        createdAt: new Date().toISOString(),
        workers: [{ pid: orphanPid, pgid: orphanPid, startTime: linuxProc.stat(orphanPid)?.startTime ?? null }],
      });

      const { sp } = await startPool();
      try {
        // This start (or a concurrent one in another test file) SIGTERMed it; either way it is gone.
        expect((await orphan).signal).toBe('SIGTERM');
        expect(existsSync(file)).toBe(false);
        expect(lookAlikes.map((p) => processAlive(p.pid!))).toEqual([true, true, true]);
      } finally {
        await sp.stop();
      }
    } finally {
      for (const p of [orphan, ...lookAlikes]) p.kill('SIGKILL');
      await Promise.all([orphan, ...lookAlikes]);
    }
  });
});

describe('SIGINT/SIGTERM to a library host', () => {
  it('stop the workers gracefully (cleanup() runs) and end the host with the signal', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-signal-'));
    const marker = path.join(dir, 'marker');
    try {
      const host = await startHost({ SNAKEPIT_TEST_ADAPTER: 'lifecycle_adapter.LifecycleAdapter', SNAKEPIT_TEST_MARKER: marker });
      host.child.kill('SIGTERM');
      const r = await host.child;
      expect(r.signal ?? r.exitCode).toBe(r.signal ? 'SIGTERM' : 143);
      expect(readFileSync(marker, 'utf8').trim().split('\n').sort()).toEqual(['cleanup', 'cleanup', 'initialize', 'initialize']);
      expect(host.pids.filter(processAlive)).toEqual([]);
      expect(existsSync(recordPath(registryDir(), host.runId))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leave the application's own signal listener in charge", async () => {
    const host = await startHost({ HOST_OWN_SIGTERM: '1' });
    host.child.kill('SIGTERM');
    const r = await host.child;
    expect(r.exitCode).toBe(0);
    expect(host.pids.filter(processAlive)).toEqual([]);
  });
});
