// The host's gRPC endpoint: Unix socket 0600 in a 0700 run dir; calls without the run's token are refused.
import * as grpc from '@grpc/grpc-js';
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Logger } from '../../src/logger.js';
import { createRunDir, removeRunDir } from '../../src/process/run-dir.js';
import { HostServer, NO_HOST_TOOLS } from '../../src/transport/grpc/host-server.js';
import { services, TOKEN_HEADER } from '../../src/transport/grpc/proto.js';
import { decode, encode } from '../../src/transport/codec.js';

describe('host gRPC server', () => {
  let dir: string;
  let server: HostServer;
  let client: grpc.Client & Record<string, (...a: unknown[]) => unknown>;
  beforeAll(async () => {
    dir = createRunDir(`test${process.pid}`);
    server = await HostServer.start({ runDir: dir, token: 'run-token', tools: NO_HOST_TOOLS, logger: new Logger('none') });
    client = new (services().HostService)(server.address, grpc.credentials.createInsecure()) as typeof client;
  });
  afterAll(async () => {
    client.close();
    await server.stop();
    removeRunDir(dir);
  });

  const call = (method: string, request: object, token?: string) =>
    new Promise<{ error: grpc.ServiceError | null; response: Record<string, unknown> }>((resolve) => {
      const metadata = new grpc.Metadata();
      if (token) metadata.set(TOKEN_HEADER, token);
      client[method]!(request, metadata, (error: grpc.ServiceError | null, response: Record<string, unknown>) => resolve({ error, response }));
    });

  it('listens on a Unix socket only its owner can use, in a private run dir', () => {
    expect(server.address).toMatch(/^unix:/);
    expect(statSync(server.address.slice('unix:'.length)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it.each([
    ['no token', undefined],
    ['a wrong token', 'guess'],
  ])('refuses a call with %s', async (_label, token) => {
    const { error } = await call('Heartbeat', { worker_id: 'w' }, token);
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('answers calls with the run token', async () => {
    const { error, response } = await call('Heartbeat', { worker_id: 'w' }, 'run-token');
    expect(error).toBeNull();
    expect(response.server_time).toBeGreaterThan(0);
  });

  it('answers an unknown host tool with a typed error outcome listing the available tools', async () => {
    const { error, response } = await call('ExecuteHostTool', { session_id: 's', tool_name: 'nope', args: encode({ x: 1 }) }, 'run-token');
    expect(error).toBeNull();
    const info = response.error as { code: string; details: Buffer };
    expect(info.code).toBe('unknown_tool');
    expect(decode(info.details)).toMatchObject({ available: [] });
  });
});
