// Heartbeats on an attached worker: a frozen one is disconnected (never killed: not ours), its
// call fails with worker_hung, and the pool reconnects once it answers again.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Snakepit, type WorkerInfo } from '../../src/index.js';
import type { WorkerExit } from '../../src/worker/worker.js';
import { startAttachedWorker, type AttachedWorker } from '../helpers/attached.js';
import { processAlive, waitForFullPool } from '../helpers/pool.js';

describe('heartbeats on attached workers', () => {
  let dir: string;
  let worker: AttachedWorker;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-attached-hb-'));
    worker = await startAttachedWorker({ dir, name: 'w', listen: '127.0.0.1:0', adapter: 'heartbeat_adapter.HeartbeatAdapter' });
  });
  afterAll(async () => {
    if (worker) {
      process.kill(worker.pid, 'SIGCONT');
      worker.child.kill('SIGKILL');
      await worker.child;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('disconnects a frozen attached worker with worker_hung and reattaches when it answers again', async () => {
    const sp = await Snakepit.start(
      {
        pools: [{
          name: 'default', transport: 'grpc', poolStartupTimeoutMs: 1_000,
          heartbeat: { pingIntervalMs: 100, timeoutMs: 200, maxMissedHeartbeats: 2 },
          workers: [{ address: worker.address }],
        }],
      },
      { logSink: () => {} },
    );
    try {
      const pool = sp.pool();
      const exited = once(pool, 'worker:exit', { signal: AbortSignal.timeout(15_000) });
      // Python keeps running a call whose RPC the host dropped: keep it short enough to wait out.
      const call = sp.execute('block', { ms: 2_000 });
      process.kill(worker.pid, 'SIGSTOP');
      await expect(call).rejects.toMatchObject({ code: 'worker_hung', category: 'worker' });
      const [, exit] = (await exited) as [WorkerInfo, WorkerExit];
      expect(exit).toMatchObject({ expected: true, exitCode: null, signal: null });
      expect(processAlive(worker.pid)).toBe(true); // disconnected, not killed
      process.kill(worker.pid, 'SIGCONT');
      await waitForFullPool(sp, 1, 30_000);
      await expect(sp.execute('pid')).resolves.toBe(worker.pid);
    } finally {
      process.kill(worker.pid, 'SIGCONT');
      await sp.stop();
    }
  });
});
