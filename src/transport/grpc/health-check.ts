/**
 * The host as a client of a worker's standard health service (`grpc.health.v1`, proto/grpc_health_v1.proto):
 * `checkHealth` before a discovered address joins a pool, `watchHealth` to hear at once when a
 * remote worker starts draining. The service needs no token (the kubelet asks it too) but speaks
 * the pool's TLS.
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { WorkerError } from '../../errors.js';
import { packageRoot } from '../../python/runtime.js';
import { clientSettings, type ChannelSecurity, type Keepalive } from './channel-security.js';
import { checkTls } from './tls-probe.js';

/** What a worker's health service says about its readiness. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

let Health: grpc.ServiceClientConstructor | undefined;

function healthClient(address: string, security: ChannelSecurity | undefined, keepalive?: Keepalive): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  if (!Health) {
    const definition = loadSync(path.join(packageRoot(), 'proto', 'grpc_health_v1.proto'), { keepCase: true, enums: String, defaults: true });
    Health = (grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } }).grpc.health.v1.Health;
  }
  const { credentials, options } = clientSettings(security, keepalive);
  return new Health(address, credentials, options) as unknown as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
}

/**
 * Resolves when the worker at `address` says SERVING (ready for calls). Rejects typed, naming the
 * address: `tls_failed` when TLS fails (a config problem), else `worker_start_failed` with
 * `details.reason` `'unreachable'` or the status it reported (`'NOT_SERVING'` while it loads or drains).
 * A worker that serves no health service passes (its handshake decides).
 */
export async function checkHealth(address: string, security: ChannelSecurity | undefined, timeoutMs: number, workerId: string): Promise<void> {
  if (security?.tls) await checkTls(address, security.tls, timeoutMs, workerId);
  const client = healthClient(address, security);
  try {
    const status = await new Promise<ServingStatus>((resolve, reject) =>
      client.Check!({ service: '' }, { deadline: Date.now() + timeoutMs }, (error: grpc.ServiceError | null, response: { status: ServingStatus }) =>
        error ? reject(error) : resolve(response.status),
      ),
    ).catch((error: grpc.ServiceError): ServingStatus => {
      // A worker without the health service (`snakepit_bridge.server`) is judged by its handshake alone.
      if (error.code === grpc.status.UNIMPLEMENTED) return 'SERVING';
      throw new WorkerError(`Health check of ${address} failed: ${error.details}`, 'worker_start_failed', { workerId, address, reason: 'unreachable', grpcCode: grpc.status[error.code] });
    });
    if (status !== 'SERVING') throw new WorkerError(`Worker at ${address} is not ready (health ${status})`, 'worker_start_failed', { workerId, address, reason: status });
  } finally {
    client.close();
  }
}

/**
 * Follows the worker's readiness (`Health.Watch`): `onStatus` hears each change, e.g. NOT_SERVING
 * the moment a drain begins. With the same `security` and `keepalive` as the worker's calls, the
 * watch shares their connection. Returns the way to stop watching. A worker without the health
 * service, or a watch that fails, is left alone: its calls' connection reports a loss.
 */
export function watchHealth(address: string, security: ChannelSecurity | undefined, keepalive: Keepalive | undefined, onStatus: (status: ServingStatus) => void): () => void {
  const client = healthClient(address, security, keepalive);
  const call = client.Watch!({ service: '' }) as grpc.ClientReadableStream<{ status: ServingStatus }>;
  call.on('data', (response: { status: ServingStatus }) => onStatus(response.status));
  call.on('error', () => {});
  return () => {
    call.cancel();
    client.close();
  };
}
