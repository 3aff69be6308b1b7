/** Where a worker comes from (spawned or attached), how it ends, and the spawned worker's command line. */
import path from 'node:path';
import type { PayloadOptions } from '../transport/codec.js';
import type { ChannelSecurity, Keepalive } from '../transport/grpc/channel-security.js';

/** Lifecycle: starting → ready ⇄ busy → draining → stopped. */
export type WorkerState = 'starting' | 'ready' | 'busy' | 'draining' | 'stopped';

/** How a worker ended. */
export interface WorkerExit {
  exitCode: number | null;
  signal: string | null;
  /** True when the host asked it to stop (stop() or kill()). */
  expected: boolean;
  /** Why the host killed it, when it did. */
  reason?: string;
}

/** A worker the host spawns. */
export interface SpawnedEndpoint {
  kind: 'spawn';
  transport: 'pipe' | 'grpc';
  runId: string;
  python: string;
  adapter: string;
  adapterArgs: readonly string[];
  /** Full environment of the child (already merged). */
  env: Record<string, string>;
  cwd?: string;
  /** gRPC workers listen on a Unix socket in this folder (0700). */
  socketDir?: string;
  /** Token the gRPC worker requires on every call (passed in its environment, never argv). */
  workerToken?: string;
  /** Shared memory above a threshold, payload limit. @default inline, no limit of its own */
  payload?: PayloadOptions | undefined;
}

/** A worker something else started; the host connects, health-checks, never spawns or kills it. */
export interface AttachedEndpoint {
  kind: 'attach';
  address: string;
  token?: string | undefined;
  /** TLS/mTLS from the pool's `tls`, or plaintext (allowed off loopback only with `insecure`). */
  security?: ChannelSecurity | undefined;
  /** Payload limit (attached workers never get shared memory). */
  payload?: PayloadOptions | undefined;
  /** HTTP/2 keepalive pings, from the pool's heartbeat settings. @default none */
  keepalive?: Keepalive | undefined;
}

/** The Python command line of a spawned worker (after the interpreter). */
export function spawnArgs(endpoint: SpawnedEndpoint, workerId: string, capacity: number): string[] {
  const args = [
    '-m', 'snakepit_bridge.server',
    '--adapter', endpoint.adapter,
    '--worker-id', workerId,
    '--max-concurrency', String(capacity),
    // The run id on the command line lets a later start find and reap survivors of a crashed host.
    '--snakepit-run-id', endpoint.runId,
  ];
  if (endpoint.transport === 'grpc') {
    const socket = path.join(endpoint.socketDir ?? '.', `${workerId}.sock`);
    args.push('--transport', 'grpc', '--listen', `unix:${socket}`);
  }
  return [...args, ...endpoint.adapterArgs];
}

/** The environment of a spawned worker: the gRPC worker's token travels here, never in argv. */
export function spawnEnv(endpoint: SpawnedEndpoint): Record<string, string> {
  if (endpoint.transport !== 'grpc' || !endpoint.workerToken) return endpoint.env;
  return { ...endpoint.env, SNAKEPIT_WORKER_TOKEN: endpoint.workerToken };
}
