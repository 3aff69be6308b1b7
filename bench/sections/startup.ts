/**
 * Cold start and memory. Cold start: `Snakepit.start` of a pool of 1 (and of 4) until it resolves (all
 * workers ready), beside spawning the venv's `python -c "import snakepit_bridge"` until it exits.
 * Memory: VmRSS of an idle, ready worker beside a bare interpreter that imported the bridge.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bridgePythonPath } from '../../src/python/runtime.js';
import { benchPool, startPool, knobs, median, python, row, type Section } from './common.js';

const pythonEnv = () => ({ ...process.env, PYTHONPATH: bridgePythonPath() });

function importTimeMs(): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', 'import snakepit_bridge'], { stdio: 'ignore', env: pythonEnv() });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`import snakepit_bridge exited ${code}`))));
  });
}

/** Time until `Snakepit.start` of a pool of `poolSize` (plus `extra` pool options) resolves, in ms. */
export async function poolStartMs(poolSize: number, extra: Record<string, unknown> = {}): Promise<number> {
  const start = performance.now();
  const sp = await startPool(benchPool({ poolSize, ...extra }));
  const ms = performance.now() - start;
  await sp.stop();
  return ms;
}

export function vmRssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN);
}

/** RSS of a bare interpreter that imported the bridge and then waits on stdin. */
async function bareRssKb(): Promise<number> {
  const child = spawn(python, ['-c', 'import sys, snakepit_bridge; print("ready", flush=True); sys.stdin.read()'], { stdio: ['pipe', 'pipe', 'inherit'], env: pythonEnv() });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', () => reject(new Error('bare interpreter exited')));
  });
  await new Promise((r) => setTimeout(r, 200));
  const kb = vmRssKb(child.pid!);
  child.kill('SIGKILL');
  return kb;
}

async function idleWorkerRssKb(): Promise<number> {
  const sp = await startPool(benchPool({ poolSize: 1 }));
  try {
    await new Promise((r) => setTimeout(r, 200));
    return vmRssKb(sp.listWorkers()[0]!.pid!);
  } finally {
    await sp.stop();
  }
}

export const coldStartSection: Section = {
  id: 'cold',
  title: 'cold start (floor: spawn venv python -c "import snakepit_bridge" until exit)',
  async run() {
    const floor: number[] = [];
    const one: number[] = [];
    const four: number[] = [];
    for (let i = 0; i < knobs.coldRounds; i++) {
      floor.push(await importTimeMs());
      one.push(await poolStartMs(1));
      four.push(await poolStartMs(4));
    }
    return [
      row('cold', 'pool of 1 ready', 'ms', 'import snakepit_bridge', median(floor), median(one)),
      row('cold', 'pool of 4 ready', 'ms', 'import snakepit_bridge', median(floor), median(four)),
      row('cold', 'pool of 4 ready', 'ms', 'pool of 1 ready', median(one), median(four), '<= 1.5'),
    ];
  },
};

export const memorySection: Section = {
  id: 'memory',
  title: 'memory (floor: a bare interpreter that imported snakepit_bridge)',
  async run() {
    const bare: number[] = [];
    const worker: number[] = [];
    for (let i = 0; i < knobs.memoryRounds; i++) {
      bare.push(await bareRssKb());
      worker.push(await idleWorkerRssKb());
    }
    return [row('memory', 'idle worker RSS (VmRSS)', 'MiB', 'bare interpreter + import', median(bare) / 1024, median(worker) / 1024)];
  },
};
