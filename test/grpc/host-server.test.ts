// The host's gRPC endpoint: Unix socket 0600 in a 0700 run dir; calls without a registered worker's token are refused.
import * as grpc from '@grpc/grpc-js';
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Logger } from '../../src/logger.js';
import { createRunDir, removeRunDir } from '../../src/process/run-dir.js';
import { PoolError, ValidationError } from '../../src/errors.js';
import { HostServer, type HostRegistration } from '../../src/transport/grpc/host-server.js';
import type { HostRequest } from '../../src/transport/types.js';
import { services, TOKEN_HEADER } from '../../src/transport/grpc/proto.js';
import { decode, encode } from '../../src/transport/codec.js';

describe('host gRPC server', () => {
  let dir: string;
  let server: HostServer;
  let client: grpc.Client & Record<string, (...a: unknown[]) => unknown>;
  let worker: HostRegistration;
  const seen: HostRequest[] = [];
  beforeAll(async () => {
    dir = createRunDir(`test${process.pid}`);
    server = await HostServer.start({ runDir: dir, logger: new Logger('none') });
    // A stand-in for the host bridge: records what arrives, knows one tool.
    worker = server.registerWorker(async (request) => {
      seen.push(request);
      if (request.op === 'list') return [{ name: 'double', description: 'x2', parameters: [{ name: 'x', type: 'integer', required: true }] }];
      if (request.op === 'call' && request.tool === 'double') return { twice: (request.args.x as number) * 2 };
      if (request.op === 'state') return { action: request.action, key: request.key, value: request.value };
      throw new ValidationError('unknown', 'unknown_host_tool', { available: ['double'] });
    });
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

  it('answers calls with a registered worker token', async () => {
    const { error, response } = await call('Heartbeat', { worker_id: 'w' }, worker.token);
    expect(error).toBeNull();
    expect(response.server_time).toBeGreaterThan(0);
  });

  it('passes host tool calls with their call id and full values, and returns the value', async () => {
    const { error, response } = await call('ExecuteHostTool', { call_id: 7, tool_name: 'double', args: encode({ x: 21, nested: { b: Buffer.from([1]) } }), timeout_ms: 500 }, worker.token);
    expect(error).toBeNull();
    expect(decode(response.value as Buffer)).toEqual({ twice: 42 });
    expect(seen.at(-1)).toEqual({ op: 'call', callId: 7, tool: 'double', args: { x: 21, nested: { b: Buffer.from([1]) } }, timeoutMs: 500 });
  });

  it('answers a failing host tool with a typed error outcome', async () => {
    const { error, response } = await call('ExecuteHostTool', { call_id: 0, tool_name: 'nope', args: encode({}) }, worker.token);
    expect(error).toBeNull();
    const info = response.error as { code: string; details: Buffer };
    expect(info.code).toBe('unknown_host_tool');
    expect(decode(info.details)).toMatchObject({ available: ['double'] });
    expect(seen.at(-1)).toMatchObject({ op: 'call', callId: undefined });
  });

  it('lists host tools with their parameters', async () => {
    const { error, response } = await call('ListHostTools', { call_id: 3 }, worker.token);
    expect(error).toBeNull();
    expect(response.tools).toMatchObject([{ name: 'double', parameters: [{ name: 'x', type: 'integer', required: true, has_default: false }] }]);
  });

  it('passes session state requests and rejects unknown actions', async () => {
    const ok = await call('SessionState', { call_id: 2, action: 'set', key: 'k', value: encode([1, 2]) }, worker.token);
    expect(decode(ok.response.value as Buffer)).toEqual({ action: 'set', key: 'k', value: [1, 2] });
    const bad = await call('SessionState', { call_id: 2, action: 'explode', key: 'k' }, worker.token);
    expect((bad.response.error as { code: string }).code).toBe('invalid_argument');
  });

  it('refuses a worker once it unregistered', async () => {
    const other = server.registerWorker(async () => null);
    other.unregister();
    const { error } = await call('Heartbeat', { worker_id: 'w' }, other.token);
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('a busy grpcHost:grpcPort fails the start with host_bind_failed naming the address', async () => {
    const first = await HostServer.start({ runDir: dir, logger: new Logger('none'), tcp: { host: '127.0.0.1', port: 0 } });
    try {
      const port = Number(first.address.split(':').at(-1));
      const error = await HostServer.start({ runDir: dir, logger: new Logger('none'), tcp: { host: '127.0.0.1', port } }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PoolError);
      expect(error).toMatchObject({ code: 'host_bind_failed', details: { address: `127.0.0.1:${port}` } });
      expect((error as PoolError).cause).toBeInstanceOf(Error); // grpc-js's own error, kept
    } finally {
      await first.stop();
    }
  });
});
