// The Worker on its own, against a scripted stand-in for Python (test/fixtures/scripts/scripted-pipe-worker.mjs):
// slots and states, one end event per call to its owner, cancel graces (deferred for a call that waits in the
// worker), the exit before the calls that die with it.
import { once } from 'node:events';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Logger } from '../../../src/logger.js';
import type { OutgoingCall } from '../../../src/transport/types.js';
import { Worker, type WorkerOwner } from '../../../src/worker/worker.js';
import { outgoingCall } from '../../helpers/transport-calls.js';

const SCRIPTED_PYTHON = path.resolve('test/fixtures/scripts/scripted-python.sh');

/** An owner that records each end, with the worker's slot count at that moment. */
function recordingOwner() {
  const ends: { tool: string; ok: boolean; outcome: unknown; inflight: number }[] = [];
  const waiters: (() => void)[] = [];
  const started: string[] = [];
  const returned: string[] = [];
  const owner: WorkerOwner = {
    callEnded(worker, call, ok, outcome) {
      ends.push({ tool: call.tool, ok, outcome, inflight: worker.inflight });
      waiters.splice(0).forEach((w) => w());
    },
    callStarted(_worker, call) {
      started.push(call.tool);
    },
    callReturned(_worker, call) {
      returned.push(call.tool);
      waiters.splice(0).forEach((w) => w());
    },
    callKept() {},
  };
  /** Resolves once `n` calls have ended. */
  const ended = async (n: number) => {
    while (ends.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { owner, ends, ended, started, returned };
}

const started: Worker[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.stop(1_000)));
});

async function startWorker(owner: WorkerOwner, capacity = 1, pipelineDepth = 0): Promise<Worker> {
  const worker = await Worker.start({
    id: 'w-unit',
    pool: 'unit',
    capacity,
    pipelineDepth,
    // Far off: these tests count slots; a loaded machine must not make a running call "stalled".
    pipelineStallMs: 60_000,
    startupTimeoutMs: 10_000,
    logger: new Logger('none'),
    owner,
    endpoint: { kind: 'spawn', transport: 'pipe', runId: 'worker-unit-test', python: SCRIPTED_PYTHON, adapter: 'scripted', adapterArgs: [], env: { PATH: process.env.PATH ?? '' } },
  });
  started.push(worker);
  return worker;
}

const call = (tool: string, args: Record<string, unknown> = {}): OutgoingCall => outgoingCall({ tool, args });

describe('Worker', () => {
  it('takes calls up to capacity + pipelineDepth and reports each end once, its slot already free', async () => {
    const { owner, ends, ended } = recordingOwner();
    const worker = await startWorker(owner, 1, 1);
    expect(worker.state).toBe('ready');
    worker.call(call('hold'));
    expect(worker).toMatchObject({ state: 'busy', inflight: 1, hasFreeSlot: false, available: true });
    worker.call(call('echo', { n: 1 }));
    expect(worker.available).toBe(false);
    worker.call(call('release'));
    await ended(3);
    // The stand-in answers `echo` at once, `hold` when `release` comes.
    expect(ends.map((e) => [e.tool, e.ok, e.outcome])).toEqual([
      ['echo', true, { n: 1 }],
      ['hold', true, 'released'],
      ['release', true, null],
    ]);
    // Each end is reported after its slot was freed: 3 in flight, then 2, 1, 0 as they end.
    expect(ends.map((e) => e.inflight)).toEqual([2, 1, 0]);
    expect(worker).toMatchObject({ state: 'ready', inflight: 0, requests: 3 });
  });

  it('lastActiveAt is now while a call runs and stays where the last call left', async () => {
    const { owner, ended } = recordingOwner();
    const worker = await startWorker(owner);
    const idleSince = worker.lastActiveAt;
    worker.call(call('hold'));
    // Busy: "last active" is the moment it is read (Date.now() moves on at least as far).
    const before = Date.now();
    expect(worker.lastActiveAt).toBeGreaterThanOrEqual(before);
    expect(worker.lastActiveAt).toBeGreaterThanOrEqual(idleSince);
    // Still busy a while later: it moved with the clock (not the moment the call was sent).
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(worker.lastActiveAt).toBeGreaterThanOrEqual(before + 5);
    worker.call(call('release'));
    await ended(2);
    const leftAt = worker.lastActiveAt;
    expect(leftAt).toBeGreaterThanOrEqual(before);
    expect(leftAt).toBeLessThanOrEqual(Date.now());
    // Idle: it no longer moves.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(worker.lastActiveAt).toBe(leftAt);
  });

  it('availableAt: room in its pipeline counts only while its running call is younger than pipelineStallMs at that time', async () => {
    const { owner, ended } = recordingOwner();
    const worker = await Worker.start({
      id: 'w-stall',
      pool: 'unit',
      capacity: 1,
      pipelineDepth: 2,
      pipelineStallMs: 50,
      startupTimeoutMs: 10_000,
      logger: new Logger('none'),
      owner,
      endpoint: { kind: 'spawn', transport: 'pipe', runId: 'worker-unit-test', python: SCRIPTED_PYTHON, adapter: 'scripted', adapterArgs: [], env: { PATH: process.env.PATH ?? '' } },
    });
    started.push(worker);
    // A whole number: `sentAt + 50 - sentAt` is then exactly 50 (with a fraction it can round to 49.99…).
    const sentAt = Math.round(globalThis.performance.now());
    worker.call(call('hold'), sentAt);
    expect(worker.availableAt(sentAt + 10)).toBe(true);
    expect(worker.availableAt(sentAt + 50)).toBe(false);
    worker.call(call('release'));
    await ended(2);
  });

  it('names the session and correlation id of a call in flight, for host requests', async () => {
    const { owner } = recordingOwner();
    const worker = await startWorker(owner);
    const id = worker.call(outgoingCall({ tool: 'hold', args: {}, sessionId: 's1', correlationId: 'c1' }));
    expect(worker.callContext(id)).toEqual({ sessionId: 's1', correlationId: 'c1' });
    expect(worker.callContext(id + 100)).toBeUndefined();
  });

  it('a cancelled call that lets go ends as cancelled and the worker lives on', async () => {
    const { owner, ends, ended } = recordingOwner();
    const worker = await startWorker(owner);
    const id = worker.call(call('hold'));
    worker.cancel(id, 5_000);
    await ended(1);
    expect(ends[0]).toMatchObject({ ok: false, outcome: { code: 'cancelled' } });
    expect(worker.state).toBe('ready');
  });

  it('kills the worker when a running call ignores its cancellation for the grace; the exit comes before the calls that die with it', async () => {
    const { owner, ends, ended } = recordingOwner();
    const worker = await startWorker(owner);
    const order: string[] = [];
    worker.once('exit', () => order.push(`exit (calls ended: ${ends.length})`));
    const id = worker.call(call('stubborn'));
    worker.cancel(id, 100);
    const [exit] = (await once(worker, 'exit')) as [{ expected: boolean; reason?: string }];
    await ended(1);
    expect(exit.reason).toMatch(/ignored cancellation/);
    expect(order).toEqual(['exit (calls ended: 0)']);
    expect(ends[0]).toMatchObject({ ok: false, outcome: { code: 'worker_crashed' } });
  });

  it('starts the grace of a cancelled call waiting behind a running one only when it starts', async () => {
    const { owner, ends, ended } = recordingOwner();
    const worker = await startWorker(owner, 1, 1);
    worker.call(call('hold'));
    const waiting = worker.call(call('stubborn'));
    worker.cancel(waiting, 100);
    // Longer than the grace: the waiting call has not started, so nothing is killed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(worker.state).toBe('busy');
    worker.call(call('release')); // the held call ends: the stubborn one runs and its grace starts
    await ended(1);
    await once(worker, 'exit');
    expect(ends[0]).toMatchObject({ tool: 'hold', ok: true });
  });
});
