// The telemetry bus: exact event sequences of calls, queue timeouts, streams and crashes, on real workers.
import { afterEach, describe, expect, it } from 'vitest';
import type { Snakepit, TelemetryEventName } from '../../../src/index.js';
import { startPool, TRANSPORT } from '../../helpers/pool.js';
import { recordTelemetry, type TelemetryRecorder } from '../../helpers/telemetry.js';

const CALL: TelemetryEventName[] = ['snakepit.call.start', 'snakepit.call.stop', 'snakepit.call.exception'];
const QUEUE: TelemetryEventName[] = ['snakepit.pool.queue.enqueued', 'snakepit.pool.queue.dequeued', 'snakepit.pool.queue.timeout'];
const STREAM: TelemetryEventName[] = ['snakepit.stream.opened', 'snakepit.stream.message', 'snakepit.stream.closed'];
const WORKER: TelemetryEventName[] = [
  'snakepit.pool.worker.spawn_started',
  'snakepit.pool.worker.spawned',
  'snakepit.pool.worker.terminated',
  'snakepit.worker.crash',
  'snakepit.pool.worker.restarted',
];

describe('telemetry events', () => {
  let sp: Snakepit | undefined;
  let rec: TelemetryRecorder | undefined;
  afterEach(async () => {
    rec?.stop();
    rec = undefined;
    await sp?.stop();
    sp = undefined;
  });

  it('a successful call: start then stop, with a duration and one correlation id', async () => {
    ({ sp } = await startPool());
    rec = recordTelemetry([...CALL, ...QUEUE]);
    await sp.execute('ping', {}, { correlationId: 'corr-1' });
    expect(rec.names()).toEqual(['snakepit.call.start', 'snakepit.call.stop']);
    expect(rec.seen[1]!.measurements.durationMs).toBeGreaterThan(0);
    expect(rec.seen.map((e) => e.metadata.correlationId)).toEqual(['corr-1', 'corr-1']);
    expect(rec.seen[1]!.metadata).toMatchObject({ pool: 'default', tool: 'ping', stream: false });
    expect(rec.seen[1]!.metadata.workerId).toEqual(expect.any(String));
    expect(sp.listWorkers().map((w) => w.id)).toContain(rec.seen[1]!.metadata.workerId);
  });

  it('a call without a correlation id gets a fresh one', async () => {
    ({ sp } = await startPool());
    rec = recordTelemetry(CALL);
    await sp.execute('ping');
    const [start, stop] = rec.seen;
    expect(start!.metadata.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(stop!.metadata.correlationId).toBe(start!.metadata.correlationId);
  });

  it('a failed call: start then exception with the error code', async () => {
    ({ sp } = await startPool());
    rec = recordTelemetry(CALL);
    await expect(sp.execute('raise_error', { type: 'ValueError' })).rejects.toMatchObject({ code: 'python_error' });
    expect(rec.names()).toEqual(['snakepit.call.start', 'snakepit.call.exception']);
    expect(rec.seen[1]!.metadata).toMatchObject({ code: 'python_error', tool: 'raise_error' });
    expect(sp.listWorkers().map((w) => w.id)).toContain(rec.seen[1]!.metadata.workerId);
  });

  it('a queue timeout: start, enqueued, timeout, exception', async () => {
    ({ sp } = await startPool({ poolQueueTimeoutMs: 200 }));
    const controller = new AbortController();
    const busy = sp.execute('sleep', { ms: 30_000 }, { signal: controller.signal }).catch(() => undefined);
    rec = recordTelemetry([...CALL, ...QUEUE]);
    await expect(sp.execute('ping')).rejects.toMatchObject({ code: 'queue_timeout' });
    expect(rec.names()).toEqual(['snakepit.call.start', 'snakepit.pool.queue.enqueued', 'snakepit.pool.queue.timeout', 'snakepit.call.exception']);
    expect(rec.seen[1]!.measurements.queueDepth).toBe(1);
    expect(rec.seen[3]!.metadata.code).toBe('queue_timeout');
    controller.abort();
    await busy;
  });

  it('a queued call: start, enqueued, dequeued, stop', async () => {
    ({ sp } = await startPool());
    const controller = new AbortController();
    const busy = sp.execute('sleep', { ms: 30_000 }, { signal: controller.signal }).catch(() => undefined);
    rec = recordTelemetry([...CALL, ...QUEUE]);
    const queued = sp.execute('ping');
    controller.abort();
    await busy;
    await queued;
    expect(rec.names()).toEqual(['snakepit.call.start', 'snakepit.pool.queue.enqueued', 'snakepit.pool.queue.dequeued', 'snakepit.call.stop']);
    expect(rec.seen[3]!.metadata.workerId).toBe(rec.seen[2]!.metadata.workerId);
  });

  it('a stream: start, opened, one message per chunk, closed, stop', async () => {
    ({ sp } = await startPool());
    rec = recordTelemetry([...CALL, ...STREAM]);
    const chunks: unknown[] = [];
    for await (const chunk of sp.stream('stream_progress', { steps: 3, delay_ms: 1 })) chunks.push(chunk);
    const messages = Array.from({ length: chunks.length }, () => 'snakepit.stream.message');
    expect(rec.names()).toEqual(['snakepit.call.start', 'snakepit.stream.opened', ...messages, 'snakepit.stream.closed', 'snakepit.call.stop']);
    expect(rec.seen.at(-2)!.measurements.messages).toBe(chunks.length);
  });

  it.runIf(TRANSPORT === 'grpc')('a spawned gRPC worker: connection established at start, lost at stop', async () => {
    rec = recordTelemetry(['snakepit.grpc.connection.established', 'snakepit.grpc.connection.lost']);
    ({ sp } = await startPool());
    const [worker] = sp.listWorkers();
    expect(rec.seen).toEqual([{ event: 'snakepit.grpc.connection.established', measurements: { durationMs: expect.any(Number) }, metadata: { workerId: worker!.id, attached: false, address: expect.stringMatching(/^unix:/), pid: worker!.pid } }]);
    await sp.stop();
    sp = undefined;
    expect(rec.names()).toEqual(['snakepit.grpc.connection.established', 'snakepit.grpc.connection.lost']);
    expect(rec.seen[1]!.metadata).toMatchObject({ workerId: worker!.id, attached: false, address: rec.seen[0]!.metadata.address, code: 'pool_stopped' });
  });

  it('a session: created, then ended with its reason and call count', async () => {
    ({ sp } = await startPool());
    rec = recordTelemetry(['snakepit.session.created', 'snakepit.session.ended']);
    await sp.session('tel-s1').execute('ping');
    expect(sp.sessions.delete('tel-s1')).toBe(true);
    expect(rec.names()).toEqual(['snakepit.session.created', 'snakepit.session.ended']);
    expect(rec.seen[1]).toMatchObject({ measurements: { calls: 1 }, metadata: { sessionId: 'tel-s1', reason: 'deleted' } });
  });

  it('a worker crash: the call fails, the worker terminates and a replacement is spawned', async () => {
    ({ sp } = await startPool({ adapter: 'crash_adapter.CrashAdapter' }));
    rec = recordTelemetry([...CALL, ...WORKER]);
    await expect(sp.execute('crash', { code: 3 })).rejects.toMatchObject({ code: 'worker_crashed' });
    await rec.untilEvent('snakepit.pool.worker.restarted');
    expect(rec.names()).toEqual([
      'snakepit.call.start',
      'snakepit.pool.worker.terminated',
      'snakepit.worker.crash',
      'snakepit.call.exception',
      'snakepit.pool.worker.spawn_started',
      'snakepit.pool.worker.spawned',
      'snakepit.pool.worker.restarted',
    ]);
    expect(rec.seen[1]!.metadata).toMatchObject({ expected: false, exitCode: 3 });
  });
});
