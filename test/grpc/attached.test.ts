// Attached workers: Python servers started outside the pool, reached over gRPC; the pool never spawns or kills them.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Snakepit, telemetry, Tensor } from '../../src/index.js';
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
      // A chosen attached worker runs the call; the host cannot start or stop attached workers, so no resize.
      const unixWorker = sp.listWorkers().find((w) => w.pid === unix.pid)!;
      await expect(sp.execute('pid', {}, { workerId: unixWorker.id })).resolves.toBe(unix.pid);
      await expect(sp.resize('default', 3)).rejects.toMatchObject({ code: 'pool_not_resizable', category: 'pool', details: { pool: 'default' } });
      await expect(sp.pool().addWorker()).rejects.toMatchObject({ code: 'pool_not_resizable' });
      await expect(sp.pool().removeWorker(unixWorker.id)).rejects.toMatchObject({ code: 'pool_not_resizable' });
      expect(sp.listWorkers()).toHaveLength(2);
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

  it('sends a shared-memory ref to an attached worker inline (it cannot map the host\'s memory)', async () => {
    const sp = await Snakepit.start({ zeroCopy: { enabled: true }, pools: [{ name: 'default', transport: 'grpc', workers: [{ address: unix.address }] }] }, { logSink: () => {} });
    try {
      const ref = sp.zeroCopy(new Tensor('int32', [2, 3], Int32Array.of(1, 2, 3, 4, 5, 6)));
      expect(ref.copy).toBe(false);
      const echoed = await sp.execute<{ t: Tensor<'int32'>; b: Buffer }>('echo', { t: ref, b: sp.zeroCopy(Buffer.from([9, 8])) });
      expect(echoed.t).toMatchObject({ dtype: 'int32', shape: [2, 3] });
      expect([...echoed.t.data]).toEqual([1, 2, 3, 4, 5, 6]);
      expect([...echoed.b]).toEqual([9, 8]);
    } finally {
      await sp.stop();
    }
  });

  it('refuses to attach with a wrong token', async () => {
    const start = Snakepit.start({ pools: [{ name: 'default', transport: 'grpc', poolStartupTimeoutMs: 3_000, workers: [{ address: tcp.address, token: 'wrong' }] }] }, { logSink: () => {} });
    await expect(start).rejects.toMatchObject({ name: 'GrpcError', code: 'unauthenticated', category: 'grpc_error', grpcStatus: 'UNAUTHENTICATED', details: { grpcStatus: 'UNAUTHENTICATED' } });
  });
});
