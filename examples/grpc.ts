// gRPC: run with `npx snakepit run examples/grpc.ts --config examples/grpc.config.ts` (mirrors guides/grpc.md).
// Spawned gRPC workers behave as pipe workers do; then a worker started by hand is attached to a second instance.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, watch } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSnakepitError, resolveInterpreter, Snakepit } from 'snakepit';

const show = (label: string, value: unknown) => console.log(`${label.padEnd(20)} ${JSON.stringify(value)}`);

export default async function main(sp: Snakepit): Promise<void> {
  // #region spawned
  show('add over gRPC', await sp.execute('add', { a: 1, b: 2 }));
  for await (const chunk of sp.stream<{ step: number }>('stream_progress', { steps: 10, delay_ms: 20 })) {
    show('chunk', chunk.step);
    if (chunk.step === 2) break;   // CancelTool reaches Python; the worker is free again
  }
  const s = sp.session('grpc-user');
  await s.execute('remember', { key: 'k', value: 42 });
  show('session recall', (await s.execute<{ value: unknown }>('recall', { key: 'k' })).value);
  // #endregion spawned

  // #region attached
  // What you would run on the worker machine (here: a child process on a Unix socket).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-attached-'));
  const bridge = path.join(path.dirname(fileURLToPath(import.meta.resolve('snakepit/package.json'))), 'python');
  const worker = spawn(resolveInterpreter().python, [
    '-m', 'snakepit_bridge.server', '--transport', 'grpc',
    '--listen', `unix:${dir}/worker.sock`,
    '--adapter', 'snakepit_bridge.adapters.showcase.ShowcaseAdapter',
    '--ready-file', `${dir}/worker.json`,
  ], { env: { ...process.env, PYTHONPATH: bridge, SNAKEPIT_WORKER_TOKEN: 'secret' }, stdio: 'ignore' });
  try {
    await attach(`${dir}/worker.json`, worker);
  } finally {
    worker.kill('SIGTERM');          // it is ours to stop: the host never stops an attached worker
    if (worker.exitCode === null) await once(worker, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
  // #endregion attached
}

async function attach(readyFilePath: string, worker: ChildProcess): Promise<void> {
  // #region attach
  const { address, pid } = await readyFile(readyFilePath);   // { address: 'unix:/…/worker.sock', pid }

  const remote = await Snakepit.start({ pools: [{ name: 'gpu', transport: 'grpc', workers: [{ address, token: 'secret' }] }] });
  const info = await remote.execute<{ pid: number }>('get_worker_info', {}, { pool: 'gpu' });
  show('attached worker', { samePid: info.pid === pid, tools: remote.listTools('gpu').length > 10 });
  await remote.stop();                                   // disconnects; the worker keeps running
  show('alive after stop', worker.exitCode === null && process.kill(pid, 0));
  // #endregion attach

  // #region token
  try {
    await Snakepit.start({ pools: [{ name: 'gpu', transport: 'grpc', workers: [{ address, token: 'wrong' }], poolStartupTimeoutMs: 2_000 }] });
  } catch (error) {
    show('wrong token', isSnakepitError(error) ? { code: error.code, message: error.message } : String(error));
  }
  // #endregion token
}

/** Resolves with the worker's ready file ({ address, pid }) once it exists (written atomically). */
async function readyFile(file: string): Promise<{ address: string; pid: number }> {
  const read = () => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as { address: string; pid: number };
    } catch {
      return undefined;
    }
  };
  const watcher = watch(path.dirname(file));
  try {
    for (let info = read(); ; info = read()) {
      if (info) return info;
      await Promise.race([once(watcher, 'change'), once(watcher, 'rename')]);
    }
  } finally {
    watcher.close();
  }
}
