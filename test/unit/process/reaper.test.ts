// The dead-run sweep against a fake process table: what it kills, what it never touches.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reapDeadRuns } from '../../../src/process/reaper.js';
import { recordPath, registryDir, writeRecordAtomic, type RunRecord } from '../../../src/process/registry.js';
import { fakeProc, stat } from '../../helpers/fake-proc.js';

const HOST = 4242;
const worker = (runId: string, extra: string[] = []) => ['python', '-m', 'snakepit_bridge.server', '--adapter', 'x.Y', '--snakepit-run-id', runId, ...extra];

let root: string;
let dir: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'snakepit-reaper-'));
  dir = registryDir(root);
  mkdirSync(dir, { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function writeRun(runId: string, workers: number[], over: Partial<RunRecord> = {}): string {
  const file = recordPath(dir, runId);
  writeRecordAtomic(file, { version: 1, runId, hostPid: HOST, hostStartTime: '100', createdAt: new Date().toISOString(), workers: workers.map((pid) => ({ pid, pgid: pid, startTime: `${pid}` })), ...over });
  return file;
}

const fast = { graceMs: 100, killWaitMs: 100 };

describe('reapDeadRuns: registry files', () => {
  it('terminates the recorded workers of a dead host (as groups) and removes its file and run folder', async () => {
    const file = writeRun('deadrun', [501, 502]);
    mkdirSync(path.join(root, 'deadrun'));
    const proc = fakeProc({
      501: { stat: stat('501', { pgrp: 501 }), cmdline: worker('deadrun') },
      502: { stat: stat('502', { pgrp: 502 }), cmdline: worker('deadrun') },
    });
    const report = await reapDeadRuns({ root, proc, kill: proc.kill, ...fast });
    expect(report).toEqual({ deadRuns: ['deadrun'], terminated: [501, 502], killed: [], resisted: [] });
    expect(proc.signals).toEqual([
      [501, 'SIGTERM', true],
      [502, 'SIGTERM', true],
    ]);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(path.join(root, 'deadrun'))).toBe(false);
  });

  it('SIGKILLs a worker that ignores SIGTERM after the grace', async () => {
    writeRun('deadrun', [501]);
    const proc = fakeProc({ 501: { stat: stat('501', { pgrp: 501 }), cmdline: worker('deadrun'), ignoresTerm: true } });
    const report = await reapDeadRuns({ root, proc, kill: proc.kill, ...fast });
    expect(report).toMatchObject({ terminated: [501], killed: [501], resisted: [] });
  });

  it('reports a process that survives SIGKILL and keeps its file for a later sweep', async () => {
    const file = writeRun('deadrun', [501]);
    const proc = fakeProc({ 501: { stat: stat('501', { pgrp: 501 }), cmdline: worker('deadrun'), unkillable: true } });
    const report = await reapDeadRuns({ root, proc, kill: proc.kill, ...fast });
    expect(report).toMatchObject({ killed: [501], resisted: [501] });
    expect(existsSync(file)).toBe(true);
  });

  it('never signals a recorded pid that now belongs to another process (pid reuse)', async () => {
    writeRun('deadrun', [501, 502, 503]);
    const proc = fakeProc({
      501: { stat: stat('501'), cmdline: ['vim', 'notes.txt'] }, // reused by an unrelated process
      502: { stat: stat('999'), cmdline: ['python', 'own.py', '--snakepit-run-id', 'deadrun'] }, // the id, but another start time
      503: { stat: stat('503'), cmdline: worker('deadrun'), uid: 12345 }, // another user
    });
    const report = await reapDeadRuns({ root, proc, kill: proc.kill, ...fast });
    expect(report.terminated).toEqual([]);
    expect(proc.signals).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves live hosts alone, also after a pid was reused by another host', async () => {
    const live = writeRun('liverun', [601]);
    const proc = fakeProc({
      [HOST]: { stat: stat('100') },
      601: { stat: stat('601', { pgrp: 601 }), cmdline: worker('liverun') },
    });
    expect((await reapDeadRuns({ root, proc, kill: proc.kill, ...fast })).terminated).toEqual([]);
    expect(existsSync(live)).toBe(true);
    // The host pid now runs something else (another start time): the run is dead.
    proc.stat = (pid) => (pid === HOST ? stat('777') : pid === 601 ? stat('601', { pgrp: 601 }) : undefined);
    expect((await reapDeadRuns({ root, proc, kill: proc.kill, ...fast })).terminated).toEqual([601]);
  });

  it("reaps what is left of a dead worker's process group (children a tool started)", async () => {
    writeRun('deadrun', [501]); // worker 501, started at tick 501, died (a zombie nobody reaps)
    const proc = fakeProc({
      501: { stat: stat('501', { pgrp: 501, state: 'Z' }) },
      510: { stat: stat('600', { pgrp: 501 }), cmdline: ['ffmpeg', '-i', 'x'] },
      511: { stat: stat('400', { pgrp: 501 }), cmdline: ['older'] }, // started before the worker: not its child
      512: { stat: stat('600', { pgrp: 501 }), cmdline: ['other'], uid: 12345 },
      513: { stat: stat('600', { pgrp: 777 }), cmdline: ['unrelated'] },
    });
    const report = await reapDeadRuns({ root, proc, kill: proc.kill, ...fast });
    expect(report).toMatchObject({ deadRuns: ['deadrun'], terminated: [510] });
    expect(proc.signals).toEqual([[510, 'SIGTERM', false]]);
  });

  it('leaves a group alone once its id leads a live process again', async () => {
    writeRun('deadrun', [501]);
    const proc = fakeProc({
      501: { stat: stat('900', { pgrp: 501 }), cmdline: ['bash'] }, // pid reused, leads group 501 anew
      510: { stat: stat('950', { pgrp: 501 }), cmdline: ['child-of-bash'] },
    });
    expect((await reapDeadRuns({ root, proc, kill: proc.kill, ...fast })).terminated).toEqual([]);
    expect(proc.signals).toEqual([]);
  });

  it('removes damaged files', async () => {
    writeFileSync(path.join(dir, 'garbage.json'), '{"version":');
    await reapDeadRuns({ root, proc: fakeProc({}), ...fast });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('reapDeadRuns: process scan', () => {
  it('reaps bridge workers whose run id no live run holds; signals a group only when the process leads it', async () => {
    const proc = fakeProc({
      701: { stat: stat('1', { pgrp: 701 }), cmdline: worker('orphan1') },
      702: { stat: stat('1', { pgrp: 1 }), cmdline: ['python', '-m', 'snakepit_bridge.server', '--run-id', 'orphan2'] },
    });
    const report = await reapDeadRuns({ root, proc, kill: proc.kill, ...fast });
    expect(report.deadRuns.sort()).toEqual(['orphan1', 'orphan2']);
    expect(proc.signals.sort()).toEqual([
      [701, 'SIGTERM', true],
      [702, 'SIGTERM', false],
    ]);
  });

  it("spares a worker whose parent host still lives (a host keeping its registry elsewhere); reaps one under a subreaper", async () => {
    const proc = fakeProc({
      900: { stat: stat('5', { ppid: 1 }), cmdline: ['node', 'host.js'] },
      901: { stat: stat('6', { ppid: 900, pgrp: 901 }), cmdline: worker('otherdr') },
      910: { stat: stat('5', { ppid: 1 }), cmdline: ['/usr/lib/systemd/systemd', '--user'] },
      911: { stat: stat('6', { ppid: 910, pgrp: 911 }), cmdline: worker('orphanx') },
    });
    const report = await reapDeadRuns({ root, proc, kill: proc.kill, ...fast });
    expect(report.deadRuns).toEqual(['orphanx']);
    expect(proc.signals).toEqual([[911, 'SIGTERM', true]]);
  });

  it('never touches look-alikes: no run id, a malformed one, another program, another user, a live or protected run', async () => {
    writeRun('liverun', []);
    const table = {
      [HOST]: { stat: stat('100') },
      801: { stat: stat('1'), cmdline: ['python', '-m', 'snakepit_bridge.server', '--adapter', 'x.Y'] },
      802: { stat: stat('1'), cmdline: ['snakepit'] },
      803: { stat: stat('1'), cmdline: worker('r1') },
      804: { stat: stat('1'), cmdline: ['mlflow', 'run', '--run-id', 'abcdefg'] },
      805: { stat: stat('1'), cmdline: ['python3', 'grpc_server.py', '--snakepit-run-id', 'k3x9a2p'] }, // the Elixir Snakepit's worker
      806: { stat: stat('1'), cmdline: worker('k3x9a2p'), uid: 12345 },
      807: { stat: stat('1'), cmdline: worker('liverun') },
      808: { stat: stat('1'), cmdline: worker('mineeee') },
      809: { stat: stat('1', { state: 'Z' }), cmdline: worker('zombies') },
    };
    const proc = fakeProc(table);
    const report = await reapDeadRuns({ root, proc, kill: proc.kill, protectedRunIds: ['mineeee'], ...fast });
    expect(report.terminated).toEqual([]);
    expect(proc.signals).toEqual([]);
  });

  it('spares the workers of a host whose file appeared after the registry was listed', async () => {
    const proc = fakeProc({ [HOST]: { stat: stat('100') }, 901: { stat: stat('1'), cmdline: worker('newhost') } });
    const pids = proc.pids;
    // The new host writes its file while the sweep reads the process table.
    proc.pids = () => {
      writeRun('newhost', []);
      return pids();
    };
    expect((await reapDeadRuns({ root, proc, kill: proc.kill, ...fast })).terminated).toEqual([]);
  });

  it('touches nothing when the registry folder cannot be read', async () => {
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'not a folder');
    const proc = fakeProc({ 701: { stat: stat('1'), cmdline: worker('orphan1') } });
    expect((await reapDeadRuns({ root, proc, kill: proc.kill, ...fast })).terminated).toEqual([]);
  });
});
