// Worker profiles: run with `npx snakepit run examples/worker-profiles.ts --config examples/worker-profiles.config.ts`
// (mirrors guides/worker-profiles.md; the adapter is examples/python/profiles_adapter.py).
import type { Snakepit } from 'snakepit';

const show = (label: string, value: unknown) => console.log(`${label.padEnd(20)} ${JSON.stringify(value)}`);

type Where = { pid: number; thread: string };

export default async function main(sp: Snakepit): Promise<void> {
  // #region capacity
  for (const pool of ['io', 'cpu']) {
    const workers = sp.listWorkers(pool);
    show(`${pool} capacity`, { workers: workers.length, perWorker: workers.map((w) => w.capacity) });
  }
  // #endregion capacity

  // #region concurrency
  // Four calls at once on the thread pool: one process, four threads, all inside it together.
  const cpu = await Promise.all([1, 2, 3, 4].map(() => sp.execute<Where>('rendezvous', { parties: 4 }, { pool: 'cpu' })));
  show('cpu: 4 calls ran in', { processes: new Set(cpu.map((r) => r.pid)).size, threads: new Set(cpu.map((r) => r.thread)).size });

  // Two at once on the process pool: one per process (a rendezvous of 2 inside one process would time out).
  const io = await Promise.all([1, 2].map(() => sp.execute<Where>('whoami', {}, { pool: 'io' })));
  show('io: 2 calls ran in', { processes: new Set(io.map((r) => r.pid)).size, threads: new Set(io.map((r) => r.thread)).size });
  // #endregion concurrency

  // #region limits
  show('io thread limits', await sp.execute('thread_limits', {}, { pool: 'io' }));
  show('cpu thread limits', await sp.execute('thread_limits', {}, { pool: 'cpu' }));
  // #endregion limits
}
