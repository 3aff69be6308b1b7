// Hand-made status snapshots for view tests (the real ones come from a running instance).
import type { InstanceSnapshot } from '../../src/control/snapshot.js';

/** Numbers of the one pool of a fake instance. */
export interface FakeNumbers {
  requests?: number;
  queued?: number;
  errors?: number;
  busy?: number;
  callsPerSec?: number;
  p50Ms?: number | null;
  workerRequests?: number;
  /** The worker is remote: its address and (optionally) zone. */
  remote?: { address: string; zone?: string };
}

/** An instance `abcdefg` with one pool `default` and one worker, started at a fixed time. */
export function fakeInstance(n: FakeNumbers = {}): InstanceSnapshot {
  const startedAt = Date.parse('2026-01-01T00:00:00Z');
  return {
    version: 1,
    runId: 'abcdefg',
    pid: 4242,
    startedAt: new Date(startedAt).toISOString(),
    takenAt: startedAt + 65_000,
    pools: [
      {
        name: 'default',
        profile: 'process',
        transport: 'pipe',
        size: 1,
        stats: { requests: n.requests ?? 0, queued: n.queued ?? 0, errors: n.errors ?? 0, queueTimeouts: 0, poolSaturated: 0, workers: 1, available: 1 - (n.busy ?? 0), busy: n.busy ?? 0, recycled: 0, lifecycle: {} as never, retries: 0, streamsHeld: 0, streamHolds: 0 },
        health: { status: 'healthy', restarts: 0, crashes: 0, removedSlots: 0, workers: 1, size: 1 },
        calls: { callsPerSec: n.callsPerSec ?? 0, p50Ms: n.p50Ms === undefined ? 1.5 : n.p50Ms, p99Ms: 9, errors: 0, windowMs: 10_000 },
        workers: [
          {
            id: 'default-w0',
            pid: 5151,
            pool: 'default',
            state: n.busy ? 'busy' : 'ready',
            load: n.busy ?? 0,
            capacity: 1,
            inflight: n.busy ?? 0,
            requests: n.workerRequests ?? n.requests ?? 0,
            startedAt,
            lastActiveAt: startedAt,
            lastHeartbeatAt: null,
            heartbeatAgeMs: 1_200,
            missedHeartbeats: 0,
            startMode: 'spawn',
            rssMb: 31.5,
            ...n.remote,
          },
        ],
      },
    ],
  };
}
