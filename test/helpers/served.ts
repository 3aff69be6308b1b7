// Starts the container worker server (python -m snakepit_bridge.serve) for tests, on loopback or inside a
// network namespace, and makes development certificates with deploy/dev-certs.sh.
import { execa, execaSync, type ResultPromise } from 'execa';
import path from 'node:path';
import { waitForReadyFile } from '../../bench/ready-file.js';
import { bridgePythonPath, resolvePythonExecutable } from '../../src/python/runtime.js';
import { FIXTURES } from './pool.js';

/** The token the served workers of the tests require. */
export const SERVED_TOKEN = 'test-token-0123456789';

/** A running `snakepit_bridge.serve`: its process, the address it serves and its pid. */
export interface ServedWorker {
  child: ResultPromise;
  address: string;
  healthAddress: string | undefined;
  pid: number;
}

/** Where `deploy/dev-certs.sh` wrote a CA, a server pair and a client pair. */
export interface CertDir {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** Runs deploy/dev-certs.sh: a CA (or `caDir`'s), a server pair for `names`, a client pair; `days` < 0: expired. */
export function makeCerts(dir: string, names: readonly string[], options: { days?: number; caDir?: string } = {}): CertDir {
  const args = [path.resolve('deploy/dev-certs.sh'), '--days', String(options.days ?? 365), ...(options.caDir ? ['--ca-dir', options.caDir] : []), dir, ...names];
  execaSync('bash', args);
  const at = (name: string) => path.join(dir, name);
  return { dir, ca: at('ca.crt'), serverCert: at('server.crt'), serverKey: at('server.key'), clientCert: at('client.crt'), clientKey: at('client.key') };
}

/** The server flags of a certificate directory; with `mtls`, clients need a certificate from its CA. */
export function tlsFlags(certs: CertDir, mtls = false): string[] {
  return ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, ...(mtls ? ['--tls-client-ca', certs.ca] : [])];
}

/**
 * Runs the server (inside network namespace `netns` when given: `ip netns exec` keeps the pid) and
 * resolves once its ready file appears. `listen` is the address hosts dial, e.g. `10.x.y.z:50051`.
 */
export async function startServedWorker(options: {
  dir: string;
  name: string;
  listen: string;
  adapter: string;
  args?: readonly string[];
  env?: Record<string, string>;
  netns?: string;
}): Promise<ServedWorker> {
  const readyFile = path.join(options.dir, `${options.name}.ready.json`);
  const python = resolvePythonExecutable();
  const serve = ['-m', 'snakepit_bridge.serve', '--adapter', options.adapter, '--listen', options.listen, '--ready-file', readyFile, ...(options.args ?? [])];
  const [file, args] = options.netns ? ['ip', ['netns', 'exec', options.netns, python, ...serve]] : [python, serve];
  const child = execa(file, args, {
    env: { ...process.env, PYTHONPATH: [bridgePythonPath(), FIXTURES].join(path.delimiter), SNAKEPIT_TOKEN: SERVED_TOKEN, ...options.env },
    reject: false,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const info = await Promise.race([
    waitForReadyFile<{ address: string; health_address: string | null; pid: number }>(readyFile, `served worker ${options.name}`),
    child.then((r) => Promise.reject(new Error(`served worker ${options.name} exited (${r.exitCode}): ${String(r.stderr)}`))),
  ]);
  return { child, address: info.address, healthAddress: info.health_address ?? undefined, pid: info.pid };
}

/** SIGKILLs what is still running and waits for it (teardown; safe on undefined). */
export async function stopServed(workers: readonly (ServedWorker | undefined)[]): Promise<void> {
  for (const w of workers) if (w && w.child.exitCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w?.child));
}
