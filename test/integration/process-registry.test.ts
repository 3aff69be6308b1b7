// The public process registry and the run-id kill (the original's ProcessRegistry / ProcessKiller), on real
// processes, through /proc and through the ps reader that macOS/BSD use (forced here on Linux).
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessKiller, ProcessRegistry, type Snakepit } from '../../src/index.js';
import { linuxProc } from '../../src/process/proc.js';
import { createPsReader } from '../../src/process/process-table.js';
import { recordPath, registryDir, writeRecordAtomic } from '../../src/process/registry.js';
import { generateRunId } from '../../src/process/run-id.js';
import { processesOfRun, waitUntil } from '../helpers/hosts.js';
import { startPool } from '../helpers/pool.js';

const PYTHON = path.resolve('.venv/bin/python');
/** A stand-in worker of run `runId`: the worker module and the run id on its command line, its own group. */
const fakeWorker = (runId: string) => execa(PYTHON, ['-c', 'import time; time.sleep(120)', '-m', 'snakepit_bridge.server', '--snakepit-run-id', runId], { reject: false, detached: true });

const READERS = [
  ['/proc', () => linuxProc],
  ['ps (forced)', () => createPsReader()],
] as const;

describe.each(READERS)('process registry through %s', (_label, makeReader) => {
  let sp: Snakepit;
  beforeAll(async () => {
    ({ sp } = await startPool({ poolSize: 2, adapter: 'echo_adapter.EchoAdapter' }));
  });
  afterAll(() => sp.stop());

  it('lists this instance: its run (own, host alive) and its workers with pid, pgid, run id and start', () => {
    const snapshot = ProcessRegistry.snapshot({ proc: makeReader() });
    const run = snapshot.runs.find((r) => r.runId === sp.runId);
    expect(run).toMatchObject({ hostPid: process.pid, own: true, hostAlive: true });
    const pids = sp.listWorkers().map((w) => w.pid).sort();
    expect(run!.workers.map((w) => w.pid).sort()).toEqual(pids);
    for (const w of run!.workers) {
      expect(w).toMatchObject({ pgid: w.pid, runId: sp.runId, alive: true });
      expect(Date.parse(w.startedAt!)).toBeGreaterThan(Date.parse(run!.createdAt) - 1);
    }
    expect(snapshot.workers).toEqual(expect.arrayContaining(run!.workers));
    expect(snapshot.deadRuns).not.toContain(sp.runId);
  });

  it('shows a crashed run as dead and reaps its surviving worker', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'snakepit-registry-'));
    const reader = makeReader();
    const runId = generateRunId();
    const worker = fakeWorker(runId);
    const gone = execa(process.execPath, ['-e', '']); // a host pid that has exited
    await gone;
    try {
      await waitUntil(() => processesOfRun(runId).includes(worker.pid!), 5_000, 'stand-in worker started');
      mkdirSync(registryDir(root), { recursive: true });
      const file = recordPath(registryDir(root), runId);
      writeRecordAtomic(file, {
        version: 1,
        runId,
        hostPid: gone.pid!,
        hostStartTime: null,
        createdAt: new Date().toISOString(),
        workers: [{ pid: worker.pid!, pgid: worker.pid!, startTime: reader.stat(worker.pid!)!.startTime, startedAt: new Date().toISOString() }],
      });
      const snapshot = ProcessRegistry.snapshot({ root, proc: reader });
      expect(snapshot.deadRuns).toEqual([runId]);
      expect(snapshot.runs[0]).toMatchObject({ runId, hostAlive: false, own: false, workers: [{ pid: worker.pid, alive: true }] });

      const report = await ProcessRegistry.reapOrphans({ root, proc: reader });
      expect(report).toMatchObject({ deadRuns: [runId], terminated: [worker.pid], killed: [], resisted: [] });
      expect((await worker).signal).toBe('SIGTERM');
      expect(existsSync(file)).toBe(false);
      expect(ProcessRegistry.snapshot({ root, proc: reader }).runs).toEqual([]);
    } finally {
      worker.kill('SIGKILL');
      await worker;
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('ProcessKiller.killByRunId stops the processes that carry the run id, and nothing else', async () => {
    const runId = generateRunId();
    const [a, b] = [fakeWorker(runId), fakeWorker(runId)];
    const bystander = fakeWorker(generateRunId());
    try {
      await waitUntil(() => processesOfRun(runId).length === 2, 5_000, 'stand-in workers started');
      const report = await ProcessKiller.killByRunId(runId, { proc: makeReader(), graceMs: 5_000 });
      expect(report.terminated.sort()).toEqual([a.pid!, b.pid!].sort());
      expect(report.killed).toEqual([]);
      expect([(await a).signal, (await b).signal]).toEqual(['SIGTERM', 'SIGTERM']);
      expect(bystander.exitCode).toBeNull();
    } finally {
      for (const p of [a, b, bystander]) p.kill('SIGKILL');
      await Promise.all([a, b, bystander]);
    }
  });
});

describe('ProcessKiller.killByRunId', () => {
  it('refuses a string that is not a run id', async () => {
    await expect(ProcessKiller.killByRunId('../etc')).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});
