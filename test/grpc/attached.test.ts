// Attached workers: Python servers started outside the pool, reached over gRPC; the pool never spawns or kills them.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Snakepit, telemetry } from '../../src/index.js';
import { startAttachedWorker, type AttachedWorker } from '../helpers/attached.js';
import { processAlive } from '../helpers/pool.js';

/** Starts the echo adapter by hand, as a user would on another box. */
const startAttached = (dir: string, name: string, listen: string, env: Record<string, string> = {}): Promise<AttachedWorker> =>
  startAttachedWorker({ dir, name, listen, adapter: 'echo_adapter.EchoAdapter', env });

describe('attached gRPC workers', () => {
  let dir: string;
  let tcp: AttachedWorker;
  let unix: AttachedWorker;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-attached-'));
    [tcp, unix] = await Promise.all([
      startAttached(dir, 'tcp', '127.0.0.1:0', { SNAKEPIT_WORKER_TOKEN: 'sesame' }),
      startAttached(dir, 'unix', `unix:${path.join(dir, 'w.sock')}`),
    ]);
  });
  afterAll(async () => {
    tcp?.child.kill('SIGTERM');
    unix?.child.kill('SIGTERM');
    await Promise.all([tcp?.child, unix?.child]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs calls on workers started outside the pool, over TCP on 127.0.0.1 and a Unix socket', async () => {
    expect(tcp.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const connections: { event: string; metadata: Record<string, unknown> }[] = [];
    telemetry.attach('attached-connections', ['snakepit.grpc.connection.established', 'snakepit.grpc.connection.lost'], (event, _m, metadata) =>
      connections.push({ event, metadata: metadata as Record<string, unknown> }),
    );
    const sp = await Snakepit.start(
      { pools: [{ name: 'default', transport: 'grpc', workers: [{ address: tcp.address, token: 'sesame' }, { address: unix.address }] }] },
      { logSink: () => {} },
    );
    try {
      expect(sp.listWorkers().map((w) => w.pid).sort()).toEqual([tcp.pid, unix.pid].sort());
      await expect(sp.execute('echo', { a: 1, b: Buffer.from([1, 2]) })).resolves.toEqual({ a: 1, b: Buffer.from([1, 2]) });
      const pids = await Promise.all([sp.execute('pid'), sp.execute('pid')]);
      expect(pids.sort()).toEqual([tcp.pid, unix.pid].sort());
      const established = connections.filter((c) => c.event === 'snakepit.grpc.connection.established');
      expect(established.map((c) => c.metadata.pid).sort()).toEqual([tcp.pid, unix.pid].sort());
      expect(established.every((c) => c.metadata.attached === true)).toBe(true);
    } finally {
      await sp.stop();
      telemetry.detach('attached-connections');
    }
    const lost = connections.filter((c) => c.event === 'snakepit.grpc.connection.lost');
    expect(lost.map((c) => c.metadata.workerId).sort()).toEqual(connections.filter((c) => c.event === 'snakepit.grpc.connection.established').map((c) => c.metadata.workerId).sort());
    // Stopping the pool only disconnects: the attached processes keep running.
    expect(processAlive(tcp.pid)).toBe(true);
    expect(processAlive(unix.pid)).toBe(true);
  });

  it('refuses to attach with a wrong token', async () => {
    const start = Snakepit.start({ pools: [{ name: 'default', transport: 'grpc', poolStartupTimeoutMs: 3_000, workers: [{ address: tcp.address, token: 'wrong' }] }] }, { logSink: () => {} });
    await expect(start).rejects.toMatchObject({ name: 'GrpcError', code: 'unauthenticated', category: 'grpc_error', grpcStatus: 'UNAUTHENTICATED', details: { grpcStatus: 'UNAUTHENTICATED' } });
  });
});
