// startMode 'fork': workers forked from one template that ran preload() once; crashes, recycling,
// the template's own death, refusal (spawn instead) and stop, with real Python workers.
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSnakepitError, type Snakepit } from '../../src/index.js';
import { MAX_TEMPLATE_DEATHS } from '../../src/pool/fork-launcher.js';
import { readRssMb, readWorkerMemoryMb } from '../../src/pool/lifecycle.js';
import { linuxProc } from '../../src/process/proc.js';
import { recordPath, registryDir, runtimeDir } from '../../src/process/registry.js';
import { extractRunId } from '../../src/process/run-id.js';
import { processesOfRun, waitUntil } from '../helpers/hosts.js';
import { processAlive, startPool, waitForFullPool, type TestInstance } from '../helpers/pool.js';

const ADAPTER = 'fork_adapter.ForkAdapter';

interface Info {
  pid: number;
  ppid: number;
  pgid: number;
  preload_pid: number;
  shared_bytes: number;
  shared_sum_sample: number;
}

let dir: string;
let marker: string;
let instance: TestInstance | undefined;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-fork-'));
  marker = path.join(dir, 'marker');
});

afterEach(async () => {
  await instance?.sp.stop();
  instance = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function forkPool(pool: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<Snakepit> {
  instance = await startPool({ poolSize: 3, startMode: 'fork', adapter: ADAPTER, adapterEnv: { FORK_MARKER: marker, ...env }, ...pool });
  return instance.sp;
}

/** The marker's lines: [hook, pid]. */
const marks = () => readFileSync(marker, 'utf8').trim().split('\n').map((line) => line.split(' '));

/** One `info` answer from every worker: the calls are placed at once, one per free worker. */
async function infoOfEach(sp: Snakepit): Promise<Info[]> {
  const infos = await Promise.all(sp.listWorkers().map(() => sp.execute<Info>('info', { ms: 100 })));
  return infos.sort((a, b) => a.pid - b.pid);
}

const ppidOf = (pid: number) => linuxProc.stat(pid)?.ppid;

describe("startMode: 'fork'", () => {
  it('forks every worker from one template that ran preload() once: each shares its data and ran initialize() itself', async () => {
    const sp = await forkPool();
    const workers = sp.listWorkers();
    expect(workers.map((w) => w.startMode)).toEqual(['fork', 'fork', 'fork']);
    const infos = await infoOfEach(sp);
    expect(infos.map((i) => i.pid)).toEqual(workers.map((w) => w.pid).sort((a, b) => a! - b!));
    const template = infos[0]!.preload_pid;
    for (const info of infos) {
      // Forked by the template (its parent), in a process group of its own, with what preload() loaded.
      expect(info).toEqual({ pid: info.pid, ppid: template, pgid: info.pid, preload_pid: template, shared_bytes: 1024 * 1024, shared_sum_sample: 7 });
      expect(extractRunId(linuxProc.cmdline(info.pid)!)).toBe(sp.runId);
    }
    expect(ppidOf(template)).toBe(process.pid);
    expect(marks().filter(([hook]) => hook === 'preload')).toEqual([['preload', String(template)]]);
    expect(marks().filter(([hook]) => hook === 'initialize').map(([, pid]) => Number(pid)).sort((a, b) => a - b)).toEqual(infos.map((i) => i.pid));
  });

  it("folds a forked worker's stdout and stderr into the host log under its own id", async () => {
    const sp = await forkPool({ poolSize: 1 });
    const [worker] = sp.listWorkers();
    await sp.execute('speak', { text: 'fork-log' });
    // Log lines travel beside the answer, not before it: wait for them.
    const lines = () => instance!.logs.filter((r) => r.message.endsWith('fork-log'));
    await waitUntil(() => lines().length === 2, 5_000, 'both log lines');
    // Two streams: no order between them.
    expect(lines().map((r) => [r.context.workerId, r.context.stream]).sort()).toEqual([
      [worker!.id, 'stderr'],
      [worker!.id, 'stdout'],
    ]);
  });

  it('replaces a SIGKILLed forked worker from the template, touching neither the template nor the others', async () => {
    const sp = await forkPool();
    const before = await infoOfEach(sp);
    const template = before[0]!.preload_pid;
    const [victim, ...others] = sp.listWorkers();
    const ready = once(sp.pool(), 'worker:ready');
    const crash = once(sp.pool(), 'worker:crash');
    process.kill(victim!.pid!, 'SIGKILL');
    const [[crashed], [replacement]] = await Promise.all([crash, ready]);
    expect(crashed).toMatchObject({ id: victim!.id });
    expect(replacement).toMatchObject({ startMode: 'fork' });
    expect(ppidOf(replacement.pid)).toBe(template);
    expect(processAlive(template)).toBe(true);
    for (const w of others) expect(processAlive(w.pid!)).toBe(true);
    const after = await infoOfEach(sp);
    expect(after.map((i) => i.preload_pid)).toEqual([template, template, template]);
    // The replacement ran initialize(); preload() ran only in the template, once.
    expect(marks().filter(([hook]) => hook === 'preload')).toHaveLength(1);
    expect(marks().filter(([hook]) => hook === 'initialize')).toHaveLength(4);
  });

  it('recycles forked workers into forked workers, on private memory rather than the shared pages', async () => {
    // 48 MiB shared from the template: over the 40 MiB threshold as RSS, not as the worker's own memory.
    const sp = await forkPool({ poolSize: 1, memoryThresholdMb: 40, lifecycleCheckIntervalMs: 100 }, { FORK_PRELOAD_MB: '48' });
    const [worker] = sp.listWorkers();
    const template = (await sp.execute<Info>('info')).preload_pid;
    expect(await readRssMb(worker!.pid!)).toBeGreaterThan(40);
    expect(await readWorkerMemoryMb(worker!)).toBeLessThan(40);
    const recycled = once(sp.pool(), 'worker:recycled');
    await sp.execute('grow', { mb: 64 });
    const [info, reason, memoryMb] = await recycled;
    expect([info.id, reason]).toEqual([worker!.id, 'memory']);
    expect(memoryMb).toBeGreaterThan(40);
    const [fresh] = sp.listWorkers();
    expect(fresh).toMatchObject({ startMode: 'fork' });
    const manual = await sp.recycleWorker('default', fresh!.id);
    const [latest] = sp.listWorkers();
    expect(manual).toEqual({ workerId: fresh!.id, replacementId: latest!.id, reason: 'manual' });
    expect([ppidOf(fresh!.pid!), ppidOf(latest!.pid!)]).toEqual([undefined, template]);
  });

  it('loses the workers forked from a template that dies, and refills the pool from a new template', async () => {
    const sp = await forkPool({ poolSize: 2 });
    const [first] = await infoOfEach(sp);
    const template = first!.preload_pid;
    const pool = sp.pool();
    const crashes: string[] = [];
    pool.on('worker:crash', (w) => crashes.push(w.id));
    process.kill(template, 'SIGKILL');
    await waitUntil(() => crashes.length === 2, 10_000, 'both forked workers gone with their template');
    await waitForFullPool(sp, 2);
    const after = await infoOfEach(sp);
    const next = after[0]!.preload_pid;
    expect(next).not.toBe(template);
    expect(after.map((i) => [i.ppid, i.preload_pid])).toEqual([
      [next, next],
      [next, next],
    ]);
    expect(marks().filter(([hook]) => hook === 'preload').map(([, pid]) => Number(pid))).toEqual([template, next]);
  });

  it('moves to changed adapter code: workers recycled after renewForkTemplate() fork from a new template, the old one goes with its last worker', async () => {
    const source = (version: number) =>
      ['import os', 'from snakepit_bridge.base_adapter import BaseAdapter, tool', '', 'class Live(BaseAdapter):', `    VERSION = ${version}`, '',
        '    @classmethod', '    def preload(cls):', '        cls.loaded_by = os.getpid()', '',
        '    @tool', '    def version(self):', '        return [self.VERSION, type(self).loaded_by]', ''].join('\n');
    writeFileSync(path.join(dir, 'live_adapter.py'), source(1));
    // No .pyc: the rewrite below may keep the file's size and mtime second.
    instance = await startPool({ poolSize: 2, startMode: 'fork', adapter: 'live_adapter.Live', pythonPath: [dir], adapterEnv: { PYTHONDONTWRITEBYTECODE: '1' } });
    const { sp } = instance;
    const [, oldTemplate] = await sp.execute<[number, number]>('version');
    writeFileSync(path.join(dir, 'live_adapter.py'), source(2));
    sp.pool('default').renewForkTemplate();
    for (const w of sp.listWorkers()) await sp.recycleWorker('default', w.id);
    const after = await Promise.all(sp.listWorkers().map(() => sp.execute<[number, number]>('version')));
    const newTemplate = after[0]![1];
    expect(newTemplate).not.toBe(oldTemplate);
    expect(after).toEqual([
      [2, newTemplate],
      [2, newTemplate],
    ]);
    await waitUntil(() => !processAlive(oldTemplate!), 10_000, 'the old template gone after its last worker');
    expect(sp.listWorkers().map((w) => ppidOf(w.pid!))).toEqual([newTemplate, newTemplate]);
  });

  it("sees a forked worker's crash without its stopped template, and forks the next worker from a new one", async () => {
    const sp = await forkPool({ poolSize: 2, poolStartupTimeoutMs: 2_000, gracefulShutdownTimeoutMs: 500 });
    const [first] = await infoOfEach(sp);
    const template = first!.preload_pid;
    const [victim] = sp.listWorkers();
    const crashed = once(sp.pool(), 'worker:crash');
    process.kill(template, 'SIGSTOP'); // it reports no exit and answers no fork request now
    try {
      process.kill(victim!.pid!, 'SIGKILL');
      const [info, crash] = await crashed;
      expect([info.id, crash.signal]).toEqual([victim!.id, 'SIGKILL']); // from the zombie's /proc entry
      await waitForFullPool(sp, 2);
      const parents = sp.listWorkers().map((w) => ppidOf(w.pid!));
      expect(parents.filter((ppid) => ppid === template)).toHaveLength(1); // the survivor
      expect(parents.filter((ppid) => ppid !== template && ppid !== process.pid)).toHaveLength(1); // forked from a new template
    } finally {
      process.kill(template, 'SIGCONT');
    }
  });

  it(`spawns from then on once its template died ${MAX_TEMPLATE_DEATHS} times`, async () => {
    const sp = await forkPool({ poolSize: 1 });
    for (let death = 1; death <= MAX_TEMPLATE_DEATHS; death++) {
      const { preload_pid: template } = await sp.execute<Info>('info');
      const exit = once(sp.pool(), 'worker:exit');
      process.kill(template, 'SIGKILL');
      await exit;
      await waitForFullPool(sp, 1);
    }
    expect(sp.listWorkers().map((w) => w.startMode)).toEqual(['spawn']);
    expect(instance!.logs.find((r) => r.context.spawnReason !== undefined)).toMatchObject({ level: 'warn', context: { spawnReason: 'template_died' } });
    expect((await sp.execute<Info>('info')).ppid).toBe(process.pid);
  });

  it('spawns instead, saying why, when preload() started a thread (forking would be unsafe)', async () => {
    const sp = await forkPool({ poolSize: 2 }, { FORK_PRELOAD_THREAD: '1' });
    expect(sp.listWorkers().map((w) => w.startMode)).toEqual(['spawn', 'spawn']);
    const warning = instance!.logs.find((r) => r.context.spawnReason !== undefined);
    expect(warning).toMatchObject({ level: 'warn', context: { pool: 'default', spawnReason: 'threads' } });
    const infos = await infoOfEach(sp);
    // Spawned workers each ran preload() themselves; the refusing template is gone.
    expect(infos.map((i) => [i.ppid, i.preload_pid])).toEqual(infos.map((i) => [process.pid, i.pid]));
    expect(processesOfRun(sp.runId).sort()).toEqual(infos.map((i) => i.pid).sort());
  });

  it("fails the pool's start with adapter_import and the traceback when preload() raises", async () => {
    const error = await forkPool({ poolSize: 2 }, { FORK_PRELOAD_FAIL: '1' }).catch((e: unknown) => e);
    expect(isSnakepitError(error) && error.code).toBe('adapter_import');
    expect(error).toMatchObject({ details: { exceptionType: 'RuntimeError' } });
    expect((error as { details: { pythonTraceback: string } }).details.pythonTraceback).toContain('preload');
  });

  it('leaves no process, no registry entry and no socket once stopped', async () => {
    const sp = await forkPool();
    const runId = sp.runId;
    const infos = await infoOfEach(sp);
    const pids = [infos[0]!.preload_pid, ...infos.map((i) => i.pid)];
    expect(processesOfRun(runId).sort()).toEqual([...pids].sort());
    await sp.stop();
    instance = undefined;
    expect(pids.filter(processAlive)).toEqual([]);
    expect(processesOfRun(runId)).toEqual([]);
    expect(existsSync(recordPath(registryDir(), runId))).toBe(false);
    const runDir = path.join(runtimeDir(), runId);
    const left = (() => {
      try {
        return readdirSync(runDir);
      } catch {
        return [];
      }
    })();
    expect(left.filter((name) => name.startsWith('fork-'))).toEqual([]);
  });
});
