// Starts a gRPC worker by hand, as a user would on another box, for attached-worker tests.
import { execa, type ResultPromise } from 'execa';
import path from 'node:path';
import { waitForReadyFile } from '../../bench/ready-file.js';
import { bridgePythonPath, resolvePythonExecutable } from '../../src/python/runtime.js';
import { FIXTURES } from './pool.js';

/** A hand-started worker: its process, the address it serves and its pid. */
export interface AttachedWorker {
  child: ResultPromise;
  address: string;
  pid: number;
}

/** Runs `python -m snakepit_bridge.server --transport grpc` and resolves once its ready file appears. */
export async function startAttachedWorker(options: { dir: string; name: string; listen: string; adapter: string; env?: Record<string, string> }): Promise<AttachedWorker> {
  const { dir, name, listen, adapter } = options;
  const readyFile = path.join(dir, `${name}.json`);
  const child = execa(
    resolvePythonExecutable(),
    ['-m', 'snakepit_bridge.server', '--transport', 'grpc', '--listen', listen, '--adapter', adapter, '--ready-file', readyFile],
    { env: { ...process.env, PYTHONPATH: [bridgePythonPath(), FIXTURES].join(path.delimiter), ...options.env }, reject: false, stdio: 'ignore' },
  );
  // The ready file is written atomically (renamed into place): wait for it, with a bound.
  const info = await waitForReadyFile<{ address: string; pid: number }>(readyFile, 'attached worker');
  return { child, ...info };
}
