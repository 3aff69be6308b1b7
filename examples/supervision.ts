// Supervision: run with `npx snakepit run examples/supervision.ts --config examples/supervision.config.ts`
// (mirrors guides/supervision.md): a killed worker, a frozen worker, recycling, resizing, and the run id on every worker.
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { isSnakepitError, ProcessKiller, ProcessRegistry, type Snakepit } from 'snakepit';

const show = (label: string, value: unknown) => console.log(`${label.padEnd(20)} ${JSON.stringify(value)}`);
const codeOf = (error: unknown) => (isSnakepitError(error) ? error.code : String(error));

export default async function main(sp: Snakepit): Promise<void> {
  // #region events
  const web = sp.pool('web');
  const events: string[] = [];
  web.on('worker:heartbeat-missed', (w, miss) => events.push(`heartbeat-missed ${w.id} ${miss.missed}/${miss.maxMissed}`));
  web.on('worker:exit', (w, exit) => events.push(`exit ${w.id} ${exit.signal ?? exit.exitCode}`));
  web.on('worker:crash', (w, crash) => events.push(`crash ${w.id} ${crash.reason}`));
  web.on('worker:ready', (w) => events.push(`ready ${w.id}`));
  web.on('health', (h) => events.push(`health ${h.status} (${h.workers}/${h.size} workers)`));
  // #endregion events

  // #region crash
  // An idempotent call whose worker is killed mid-call runs again on the other worker.
  const call = sp.execute<{ slept_ms: number }>('sleep', { ms: 500 }, { pool: 'web', idempotent: true });
  const victim = sp.listWorkers('web').find((w) => w.inflight > 0)!;   // the call went out at once
  process.kill(victim.pid!, 'SIGKILL');                               // as the OOM killer or a segfault would
  show('retried call', await call);
  await sp.awaitReady('web', 10_000);                                 // the replacement is up
  show('web events', events.splice(0).filter((e) => !e.startsWith('heartbeat')));
  show('retries, health', { retries: sp.stats('web').retries, ...pick(sp.health('web'), 'status', 'crashes', 'restarts') });
  // #endregion crash

  // #region hung
  // A frozen worker (SIGSTOP: alive, but it answers nothing) is found by its missed heartbeats.
  const s = sp.session('frozen', { pool: 'web' });
  await s.execute('ping');
  const frozen = sp.listWorkers('web').find((w) => w.id === s.workerId)!;
  const stuck = s.execute('sleep', { ms: 5_000 });                    // not idempotent: it fails
  process.kill(frozen.pid!, 'SIGSTOP');
  try {
    await stuck;
  } catch (error) {
    show('call on frozen', { code: codeOf(error), crash: isSnakepitError(error) ? error.details.crash : undefined });
  }
  await sp.awaitReady('web', 10_000);
  show('web events', events.splice(0).filter((e) => e.includes(frozen.id) || e.startsWith('ready')));
  // #endregion hung

  // #region recycle
  const batch = sp.pool('batch');
  const recycles: string[] = [];
  batch.on('worker:recycled', (w, reason) => recycles.push(`${w.id} ${reason}`));
  const firstRecycle = once(batch, 'worker:recycled');               // emitted once the old worker is gone
  const pids: number[] = [];
  for (let i = 0; i < 4; i++) pids.push((await sp.execute<{ pid: number }>('get_worker_info', {}, { pool: 'batch' })).pid);
  show('pids of 4 calls', pids.map((pid) => (pid === pids[0] ? 'first' : 'second')));
  await firstRecycle;
  show('by hand', await sp.recycleWorker('batch', sp.listWorkers('batch')[0]!.id)); // resolves once replaced
  show('recycled', recycles);
  show('lifecycle', sp.stats('batch').lifecycle);
  // #endregion recycle

  // #region resize
  // Grow pool `web` while it serves, run calls on the new worker, then let that worker go: it finishes its call first.
  const grown = await sp.resize('web', 3);                            // resolves once the new worker is ready
  show('grown', pick(grown, 'from', 'to'));
  const added = sp.listWorkers('web').find((w) => w.id === grown.added[0])!;
  const onAdded = await sp.execute<{ pid: number }>('get_worker_info', {}, { pool: 'web', workerId: added.id });
  show('ran on it', onAdded.pid === added.pid);
  const running = sp.execute<{ slept_ms: number }>('sleep', { ms: 300 }, { pool: 'web', workerId: added.id });
  const removed = await sp.pool('web').removeWorker(added.id);         // resolves once it has stopped
  show('its call', await running);
  show('removed, size', { removed: removed.id === added.id, size: sp.health('web').size, workers: sp.listWorkers('web').length });
  // #endregion resize

  // #region run-id
  // Every worker's command line names this run: the next start reaps what a crashed host left.
  const worker = sp.listWorkers('web')[0]!;
  if (existsSync(`/proc/${worker.pid}/cmdline`)) {
    const argv = readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8').split('\0');
    show('run id on argv', argv[argv.indexOf('--snakepit-run-id') + 1] === sp.runId);
  }
  // #endregion run-id

  // #region registry
  // The registry every host keeps (the original's ProcessRegistry): this run, its workers, dead runs.
  const { runs, deadRuns } = ProcessRegistry.snapshot();
  const mine = runs.find((r) => r.runId === sp.runId)!;
  show('registry', { own: mine.own, hostAlive: mine.hostAlive, workers: mine.workers.length, allAlive: mine.workers.every((w) => w.alive) });
  for (const runId of deadRuns) await ProcessKiller.killByRunId(runId); // what the next start would reap
  // #endregion registry
}

function pick<T extends object, K extends keyof T>(obj: T, ...keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, obj[k]])) as Pick<T, K>;
}
