// Start modes: run with `npx snakepit run examples/fork.ts --config examples/fork.config.ts`
// (mirrors guides/worker-profiles.md#start-modes-spawn-and-fork; the adapter is examples/python/embeddings_adapter.py).
import { once } from 'node:events';
import type { Snakepit } from 'snakepit';

const show = (label: string, value: unknown) => console.log(`${label.padEnd(20)} ${JSON.stringify(value)}`);

type Where = { pid: number; parent: number; loaded_by: number };

export default async function main(sp: Snakepit): Promise<void> {
  // #region shared
  const workers = sp.listWorkers('embed');
  show('start modes', workers.map((w) => w.startMode));
  // One call per worker (placed at once, one per free worker): who loaded the table each one reads?
  const where = await Promise.all(workers.map(() => sp.execute<Where>('where', {}, { pool: 'embed' })));
  const template = where[0]!.loaded_by;
  show('loaded once', { loaders: new Set(where.map((w) => w.loaded_by)).size, byTheParentOfAll: where.every((w) => w.parent === template) });
  show('embed("fork")', await sp.execute('embed', { word: 'fork' }, { pool: 'embed' }));
  // #endregion shared

  // #region replacement
  // A crashed worker's replacement is forked from the same template: the table is already there.
  const ready = once(sp.pool('embed'), 'worker:ready');
  process.kill(workers[0]!.pid!, 'SIGKILL');
  const [fresh] = await ready;
  show('replacement', { startMode: fresh.startMode, sameTemplate: (await sp.execute<Where>('where', {}, { pool: 'embed' })).loaded_by === template });
  // #endregion replacement
}
