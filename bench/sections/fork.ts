/**
 * startMode 'fork' beside 'spawn', both measured in this run: a pool of 4 ready against a pool of 1
 * (the template's import and preload() are paid once), a worker SIGKILLed until its replacement is
 * ready, and the memory (PSS, /proc/<pid>/smaps_rollup) of 4 workers holding a 256 MiB array loaded
 * once in the template's preload() against 4 spawned workers that each load it in initialize().
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Snakepit } from '../../src/index.js';
import { linuxProc } from '../../src/process/proc.js';
import { benchPool, knobs, median, row, startPool, type Section } from './common.js';
import { poolStartMs } from './startup.js';

type StartMode = 'spawn' | 'fork';

/** Kill -9 of a worker until its replacement is ready, `times` times in one pool of 2; each in ms. */
async function replacementMs(startMode: StartMode, times: number): Promise<number[]> {
  const sp = await startPool(benchPool({ poolSize: 2, startMode }));
  const pool = sp.pool('default');
  const out: number[] = [];
  try {
    for (let i = 0; i < times; i++) {
      const victim = sp.listWorkers()[0]!;
      const ready = once(pool, 'worker:ready', { signal: AbortSignal.timeout(30_000) });
      const start = performance.now();
      process.kill(victim.pid!, 'SIGKILL');
      await ready;
      out.push(performance.now() - start);
    }
  } finally {
    await sp.stop();
  }
  return out;
}

function pssKb(pid: number): number {
  const match = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return Number(match?.[1] ?? Number.NaN);
}

/** Total PSS (MiB) of a pool of 4 holding the array, with its template in fork mode. */
async function arrayPoolPssMb(startMode: StartMode): Promise<number> {
  const loadIn = startMode === 'fork' ? 'preload' : 'initialize';
  const config = benchPool({ poolSize: 4, startMode, adapter: 'preload_adapter.PreloadAdapter', adapterEnv: { BENCH_LOAD_IN: loadIn }, poolStartupTimeoutMs: 60_000 });
  const sp: Snakepit = await startPool(config);
  try {
    for (let i = 0; i < 8; i++) await sp.execute('checksum');
    const workers = sp.listWorkers().map((w) => w.pid!);
    // Fork mode: the workers' parent is the template, whose share counts too.
    const parents = new Set(workers.map((pid) => linuxProc.stat(pid)?.ppid ?? process.pid).filter((ppid) => ppid !== process.pid));
    return [...workers, ...parents].reduce((sum, pid) => sum + pssKb(pid), 0) / 1024;
  } finally {
    await sp.stop();
  }
}

export const forkSection: Section = {
  id: 'fork',
  title: "fork mode (startMode 'fork' beside 'spawn', same run; PSS includes the template)",
  async run() {
    const one: number[] = [];
    const four: number[] = [];
    const fourSpawn: number[] = [];
    const forkReplace: number[] = [];
    const spawnReplace: number[] = [];
    const forkPss: number[] = [];
    const spawnPss: number[] = [];
    for (let i = 0; i < knobs.forkRounds; i++) {
      one.push(await poolStartMs(1, { startMode: 'fork' }));
      four.push(await poolStartMs(4, { startMode: 'fork' }));
      fourSpawn.push(await poolStartMs(4, { startMode: 'spawn' }));
      spawnReplace.push(...(await replacementMs('spawn', 3)));
      forkReplace.push(...(await replacementMs('fork', 3)));
    }
    for (let i = 0; i < knobs.memoryRounds; i++) {
      spawnPss.push(await arrayPoolPssMb('spawn'));
      forkPss.push(await arrayPoolPssMb('fork'));
    }
    return [
      row('fork', 'pool of 4 ready (fork)', 'ms', 'pool of 1 ready (fork)', median(one), median(four), '<= 1.2'),
      row('fork', 'pool of 4 ready (fork)', 'ms', 'pool of 4 ready (spawn)', median(fourSpawn), median(four)),
      row('fork', 'replacement after SIGKILL ready (fork)', 'ms', 'the same (spawn)', median(spawnReplace), median(forkReplace), '<= 25', 'value'),
      row('fork', '4 workers, 256 MiB array in preload(): total PSS (fork)', 'MiB', '4 spawned, loaded in initialize()', median(spawnPss), median(forkPss), '<= 0.4'),
    ];
  },
};
