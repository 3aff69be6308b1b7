// `snakepit profile-inspector`: runtime facts, advice per pool, library table, thread limits, hardware (fake GPU tools).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProfileInspectorReport } from '../../src/python/inspect.js';
import { cli, json } from '../helpers/cli.js';
import { FakeTools } from '../helpers/fake-tools.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-profile-'));
const configFile = path.join(dir, 'snakepit.config.json');
writeFileSync(
  configFile,
  JSON.stringify({
    pools: [
      { name: 'default', poolSize: 2, adapter: 'echo_adapter.EchoAdapter' },
      { name: 'ml', workerProfile: 'thread', poolSize: 2, threadsPerWorker: 4, adapter: 'echo_adapter.EchoAdapter', adapterEnv: { OMP_NUM_THREADS: '3' } },
    ],
  }),
);

describe('snakepit profile-inspector', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('--json: the interpreter, a recommendation per pool, installed libraries, thread limits, hardware', async () => {
    const r = await cli(['profile-inspector', '--json', '--config', configFile]);
    expect(r.exitCode).toBe(0);
    const report = json<ProfileInspectorReport>(r);
    expect(report.python).toMatchObject({ inVenv: true, implementation: 'cpython', gilEnabled: expect.any(Boolean), freeThreadingBuild: expect.any(Boolean) });
    expect(report.pools.map((p) => [p.name, p.workerProfile, p.capacity])).toEqual([
      ['default', 'process', 2],
      ['ml', 'thread', 8],
    ]);
    for (const pool of report.pools) {
      expect(['process', 'thread']).toContain(pool.recommended);
      expect(pool.reasons.length).toBeGreaterThan(0);
    }
    // The process profile pins BLAS/OpenMP to 1 thread; the thread pool's adapterEnv wins.
    expect(report.pools[0]?.threadLimits.OMP_NUM_THREADS).toBe('1');
    expect(report.pools[1]?.threadLimits.OMP_NUM_THREADS).toBe('3');
    // numpy comes with the dev requirements; sqlite3 is in every standard library.
    expect(report.libraries).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'numpy', threadSafe: 'safe' }), expect.objectContaining({ name: 'sqlite3', version: 'stdlib', threadSafe: 'unsafe' })]));
    expect(report.hardware).toMatchObject({ accelerator: expect.any(String), cpu: { threads: expect.any(Number), memoryTotalMb: expect.any(Number) } });
    expect(report.hardware.availableParallelism).toBe(os.availableParallelism());
  });

  it('a GIL Python: the thread pool is advised to use processes, with a warning', async (ctx) => {
    const report = json<ProfileInspectorReport>(await cli(['profile-inspector', '--json', '--config', configFile]));
    if (!report.python.gilEnabled) ctx.skip(); // a free-threaded interpreter rightly recommends threads
    expect(report.pools.find((p) => p.name === 'ml')).toMatchObject({ recommended: 'process', matches: false, warnings: expect.arrayContaining([expect.any(String)]) });
    expect(report.pools.find((p) => p.name === 'default')).toMatchObject({ recommended: 'process', matches: true });
  });

  it('shows the GPUs the hardware detector finds (a fake nvidia-smi on PATH)', async () => {
    const fake = new FakeTools().tool('nvidia-smi', [
      { when: '--query-gpu', stdout: '0, NVIDIA H100 80GB HBM3, 81559, 80000, 9.0, 550.54.15\n' },
      { stdout: 'NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4\n' },
    ]);
    process.env.PATH = `${fake.dir}${path.delimiter}${savedPath ?? ''}`;
    try {
      const report = json<ProfileInspectorReport>(await cli(['profile-inspector', '--json', '--config', configFile]));
      expect(report.hardware).toMatchObject({ accelerator: 'cuda', cuda: { driverVersion: '550.54.15', devices: [{ id: 0, name: 'NVIDIA H100 80GB HBM3', memoryTotalMb: 81559 }] } });
      const text = await cli(['profile-inspector', '--config', configFile]);
      expect(text.stdout).toContain('cuda:0 NVIDIA H100 80GB HBM3');
    } finally {
      fake.remove();
    }
  });

  it('prints the sections as text', async () => {
    const r = await cli(['profile-inspector', '--config', configFile]);
    expect(r.exitCode).toBe(0);
    for (const section of ['Python', 'Pools', 'Library thread safety', 'Thread limits', 'Hardware']) expect(r.stdout).toContain(section);
  });

  it('python_not_found for an interpreter that does not run', async () => {
    const r = await cli(['profile-inspector', '--json', '--config', configFile, '--python', path.join(dir, 'no-python')]);
    expect(r.exitCode).toBe(1);
    expect(json<{ error: { code: string } }>(r).error.code).toBe('python_not_found');
  });
});
