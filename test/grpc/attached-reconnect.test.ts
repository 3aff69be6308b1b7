// An attached worker that dies and comes back on the same address: the connection is lost, the
// pool reconnects with backoff, `reconnected` follows the new `established`, and calls work again.
// Runtime telemetry control reaches an attached worker over gRPC (it has no control pipe).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Snakepit, telemetry, type TelemetryEventName } from '../../src/index.js';
import { startAttachedWorker, type AttachedWorker } from '../helpers/attached.js';
import { FIXTURES } from '../helpers/pool.js';
import { recordTelemetry, type TelemetryRecorder } from '../helpers/telemetry.js';

const CONNECTION: TelemetryEventName[] = ['snakepit.grpc.connection.established', 'snakepit.grpc.connection.lost', 'snakepit.grpc.connection.reconnected'];

describe('attached workers: reconnection and telemetry control', () => {
  let dir: string;
  const started: AttachedWorker[] = [];
  let rec: TelemetryRecorder | undefined;
  let sp: Snakepit | undefined;
  const startWorker = async (name: string, listen: string, adapter = 'telemetry_adapter.TelemetryAdapter') => {
    const worker = await startAttachedWorker({ dir, name, listen, adapter });
    started.push(worker);
    return worker;
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-reconnect-'));
  });
  afterEach(async () => {
    rec?.stop();
    rec = undefined;
    telemetry.control.configure({ sampling: 1 });
    await sp?.stop();
    sp = undefined;
  });
  afterAll(async () => {
    for (const w of started) w.child.kill('SIGKILL');
    await Promise.all(started.map((w) => w.child));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a killed worker replaced on the same address: lost, then established and reconnected, and calls succeed', async () => {
    const first = await startWorker('first', '127.0.0.1:0');
    rec = recordTelemetry(CONNECTION);
    sp = await Snakepit.start(
      {
        pools: [{
          name: 'default', transport: 'grpc', poolStartupTimeoutMs: 2_000, pythonPath: [FIXTURES],
          heartbeat: { pingIntervalMs: 100, timeoutMs: 500, maxMissedHeartbeats: 2 },
          workers: [{ address: first.address }],
        }],
      },
      { logSink: () => {} },
    );
    expect(await sp.execute('pid')).toBe(first.pid);
    first.child.kill('SIGKILL');
    await first.child;
    await rec.untilEvent('snakepit.grpc.connection.lost');
    // Another process serves the same address (as a restarted service would).
    const second = await startWorker('second', first.address);
    await rec.untilEvent('snakepit.grpc.connection.reconnected');
    expect(rec.names()).toEqual([
      'snakepit.grpc.connection.established',
      'snakepit.grpc.connection.lost',
      'snakepit.grpc.connection.established',
      'snakepit.grpc.connection.reconnected',
    ]);
    const [established, lost, again, reconnected] = rec.seen;
    expect(established!.metadata).toMatchObject({ attached: true, address: first.address, pid: first.pid });
    expect(lost!.metadata).toMatchObject({ attached: true, address: first.address, workerId: established!.metadata.workerId });
    expect(lost!.metadata.code).not.toBe('pool_stopped');
    expect(again!.metadata).toMatchObject({ attached: true, address: first.address, pid: second.pid });
    expect(reconnected!.metadata).toEqual({
      workerId: again!.metadata.workerId,
      previousWorkerId: established!.metadata.workerId,
      attached: true,
      address: first.address,
      pid: second.pid,
    });
    expect(reconnected!.measurements.downtimeMs).toBeGreaterThan(0);
    expect(reconnected!.measurements.attempts).toBeGreaterThanOrEqual(1);
    await expect(sp.execute('pid')).resolves.toBe(second.pid);
    // A stop of ours is a loss too (code pool_stopped), never followed by a reconnection.
    await sp.stop();
    sp = undefined;
    expect(rec.seen.at(-1)).toMatchObject({ event: 'snakepit.grpc.connection.lost', metadata: { code: 'pool_stopped' } });
  });

  it("sampling 0 silences an attached worker's events without restarting it; 1 brings them back", async () => {
    const worker = await startWorker('sampled', '127.0.0.1:0');
    sp = await Snakepit.start(
      { pools: [{ name: 'default', transport: 'grpc', pythonPath: [FIXTURES], workers: [{ address: worker.address }] }] },
      { logSink: () => {} },
    );
    rec = recordTelemetry(['snakepit.python.custom']);
    expect(telemetry.control.setSampling(0, 'default')).toBe(1);
    await telemetry.control.settled();
    await sp.execute('emit_many', { n: 5 }, { correlationId: 'silenced' });
    telemetry.control.setSampling(1, 'default');
    await telemetry.control.settled();
    await sp.execute('emit_many', { n: 2 }, { correlationId: 'after' });
    await rec.until((s) => s.length >= 2, 'the events after sampling 1');
    expect(rec.seen.map((e) => e.metadata.correlationId)).toEqual(['after', 'after']);
    // Named by the host (from the worker's host token): a worker started by hand has no id of its own.
    expect(rec.seen[0]!.metadata).toMatchObject({ pool: 'default', workerId: sp.listWorkers()[0]!.id });
    await expect(sp.execute('pid')).resolves.toBe(worker.pid);
    expect(sp.health().restarts ?? 0).toBe(0);
  });
});
