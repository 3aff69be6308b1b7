// The dispatcher on its own, with fake workers: admission, the queue and its limits, one end event per
// call (the caller settles before the worker's next call is sent), retries, timeouts, session bindings.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PoolError } from '../../../src/errors.js';
import { Logger } from '../../../src/logger.js';
import { Dispatcher, type DispatchHost } from '../../../src/pool/dispatcher.js';
import { Task, type CallOptions } from '../../../src/pool/task.js';
import type { Worker } from '../../../src/worker/worker.js';

/** A worker that records what it is sent; `capacity` calls at once. */
class FakeWorker {
  state = 'ready';
  inflight = 0;
  readonly sent: Task[] = [];
  readonly cancelled: [number, number][] = [];
  /** `settled` of the task sent before each call, as seen when that call was sent. */
  readonly previousSettledAtSend: boolean[] = [];
  #nextId = 1;
  constructor(
    readonly id: string,
    readonly capacity = 1,
    readonly depth = 0,
  ) {}
  availableAt(_nowMs: number): boolean {
    return this.state === 'ready' && this.inflight < this.capacity + this.depth;
  }
  get hasFreeSlot(): boolean {
    return this.state === 'ready' && this.inflight < this.capacity;
  }
  get load(): number {
    return this.inflight / this.capacity;
  }
  call(task: Task): number {
    const previous = this.sent.at(-1);
    if (previous) this.previousSettledAtSend.push(previous.settled);
    this.inflight++;
    this.sent.push(task);
    return this.#nextId++;
  }
  cancel(id: number, graceMs: number): void {
    this.cancelled.push([id, graceMs]);
  }
  /** Calls this fake says wait inside it (the test sets them), and those asked back. */
  readonly waitingCalls: [number, Task][] = [];
  readonly recalled: number[] = [];
  stalled = false;
  waiting(): IterableIterator<[number, Task]> {
    return this.waitingCalls[Symbol.iterator]();
  }
  get waitingCount(): number {
    return this.waitingCalls.length;
  }
  recall(id: number): void {
    this.recalled.push(id);
  }
}

function setup(workers: FakeWorker[], overrides: Partial<DispatchHost> = {}, settings: Partial<DispatchHost['settings']> = {}) {
  const host: DispatchHost = {
    name: 'p',
    settings: { affinity: 'prefer', poolMaxQueueSize: 10, poolQueueTimeoutMs: 1_000, cancelGraceMs: 50, pipelineStallMs: 5, ...settings },
    logger: new Logger('none'),
    workers: () => workers as unknown as Worker[],
    untainted: (ws) => ws,
    isRecycling: () => false,
    unhealthy: () => undefined,
    afterFailure: (_task, _worker, error) => ({ error, retry: false }),
    sessionDispatched: () => undefined,
    sessionRestoreLost: () => {},
    settled: () => {},
    recycleIfDue: () => {},
    checkIdle: () => {},
    ...overrides,
  };
  const dispatcher = new Dispatcher(host);
  const task = (options: CallOptions = {}, timeoutMs = 10_000) => {
    const t = new Task('echo', {}, options, undefined, timeoutMs, dispatcher);
    t.promise.catch(() => {});
    return t;
  };
  /** The fake worker's end of a call, as the real worker reports it (slot freed first). */
  const end = (worker: FakeWorker, t: Task, ok: boolean, outcome: unknown) => {
    worker.inflight--;
    dispatcher.callEnded(worker as unknown as Worker, t, ok, outcome);
  };
  return { dispatcher, task, end };
}

beforeEach(() => vi.useFakeTimers());
/** Runs the balance an end schedules (a setImmediate: the fake clock runs it at tick 0). */
const balance = () => vi.advanceTimersByTime(0);
afterEach(() => vi.useRealTimers());

describe('Dispatcher', () => {
  it('runs a call on a free worker and counts it', () => {
    const w = new FakeWorker('w1');
    const { dispatcher, task } = setup([w]);
    const t = task();
    dispatcher.admit(t);
    expect(w.sent).toEqual([t]);
    expect(t.worker).toBe(w);
    expect(t.callId).toBe(1);
    expect(dispatcher.counters.requests).toBe(1);
    expect(dispatcher.queued).toBe(0);
  });

  it("settles a call before its worker's next queued call is sent", async () => {
    const w = new FakeWorker('w1');
    const { dispatcher, task, end } = setup([w]);
    const [a, b] = [task(), task()];
    dispatcher.admit(a);
    dispatcher.admit(b);
    expect(dispatcher.queued).toBe(1);
    end(w, a, true, 'A');
    expect(w.sent).toEqual([a, b]);
    expect(w.previousSettledAtSend).toEqual([true]);
    await expect(a.promise).resolves.toBe('A');
  });

  it('fails a call that waited past the queue timeout, counted as a queue timeout', async () => {
    const w = new FakeWorker('w1');
    const { dispatcher, task } = setup([w]);
    dispatcher.admit(task());
    const waiting = task();
    dispatcher.admit(waiting);
    vi.advanceTimersByTime(1_000);
    await expect(waiting.promise).rejects.toMatchObject({ code: 'queue_timeout' });
    expect(dispatcher.queued).toBe(0);
    expect(dispatcher.counters).toMatchObject({ queueTimeouts: 1, errors: 0 });
  });

  it('refuses a call beyond poolMaxQueueSize with pool_saturated', async () => {
    const w = new FakeWorker('w1');
    const { dispatcher, task } = setup([w], {}, { poolMaxQueueSize: 1 });
    dispatcher.admit(task());
    dispatcher.admit(task());
    const third = task();
    dispatcher.admit(third);
    await expect(third.promise).rejects.toMatchObject({ code: 'pool_saturated' });
    expect(dispatcher.counters).toMatchObject({ poolSaturated: 1, errors: 0 });
  });

  it('times out a running call: rejects it and cancels it on its worker with the grace', async () => {
    const w = new FakeWorker('w1');
    const { dispatcher, task } = setup([w]);
    const t = task({}, 200);
    dispatcher.admit(t);
    vi.advanceTimersByTime(200);
    await expect(t.promise).rejects.toMatchObject({ code: 'call_timeout' });
    expect(w.cancelled).toEqual([[1, 50]]);
    expect(dispatcher.counters.errors).toBe(1);
  });

  it('a settled call still waiting inside a worker (its cancel on the way) does not count against poolMaxQueueSize', async () => {
    const w = new FakeWorker('w1', 1, 4);
    const { dispatcher, task } = setup([w], {}, { poolMaxQueueSize: 1 });
    const [running, waiting] = [task(), task()];
    dispatcher.admit(running);
    dispatcher.admit(waiting);
    w.waitingCalls.push([2, waiting]);
    const aborted = new AbortController();
    dispatcher.onAbort(waiting, aborted.signal.reason);
    await expect(waiting.promise).rejects.toMatchObject({ code: 'aborted' });
    const next = task();
    dispatcher.admit(next); // the upper bound (1 waiting) reaches the limit: the exact count says 0
    expect(next.settled).toBe(false);
    expect(w.sent.at(-1)).toBe(next);
    const beyond = task();
    w.waitingCalls.push([3, next]);
    dispatcher.admit(beyond);
    await expect(beyond.promise).rejects.toMatchObject({ code: 'pool_saturated' });
  });

  it('runs a failed call again when the crash barrier allows it', async () => {
    const [w1, w2] = [new FakeWorker('w1'), new FakeWorker('w2')];
    const { dispatcher, task, end } = setup([w1, w2], { afterFailure: (_t, _w, error) => ({ error, retry: true }) });
    const t = task({ idempotent: true });
    dispatcher.admit(t);
    w1.state = 'stopped';
    end(w1, t, false, new Error('died'));
    expect(w2.sent).toEqual([t]);
    expect(t.retries).toBe(1);
    expect(dispatcher.counters).toMatchObject({ retries: 1, requests: 2, errors: 0 });
    end(w2, t, true, 'ok');
    await expect(t.promise).resolves.toBe('ok');
  });

  it('waits the backoff the crash barrier gives before the retry; a stop meanwhile fails it', async () => {
    const [w1, w2] = [new FakeWorker('w1'), new FakeWorker('w2')];
    const { dispatcher, task, end } = setup([w1, w2], { afterFailure: (_t, _w, error) => ({ error, retry: true, backoffMs: 100 }) });
    const t = task({ idempotent: true });
    dispatcher.admit(t);
    w1.state = 'stopped';
    end(w1, t, false, new Error('died'));
    expect(w2.sent).toEqual([]);
    expect(dispatcher.queued).toBe(1); // waiting for its retry counts as queued (the pool is not idle)
    vi.advanceTimersByTime(99);
    expect(w2.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(w2.sent).toEqual([t]);
    expect(dispatcher.queued).toBe(0);

    const u = task({ idempotent: true });
    dispatcher.admit(u);
    w2.state = 'stopped';
    end(w2, u, false, new Error('died'));
    dispatcher.failQueued(new PoolError('stopped', 'pool_stopped'), false);
    await expect(u.promise).rejects.toMatchObject({ code: 'pool_stopped' });
    expect(dispatcher.queued).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(w1.sent).toHaveLength(1);
  });

  it('a call timing out during its retry backoff fails with call_timeout and is not sent again', async () => {
    const [w1, w2] = [new FakeWorker('w1'), new FakeWorker('w2')];
    const { dispatcher, task, end } = setup([w1, w2], { afterFailure: (_t, _w, error) => ({ error, retry: true, backoffMs: 500 }) });
    const t = task({ idempotent: true }, 300);
    dispatcher.admit(t);
    w1.state = 'stopped';
    end(w1, t, false, new Error('died'));
    vi.advanceTimersByTime(300);
    await expect(t.promise).rejects.toMatchObject({ code: 'call_timeout' });
    expect(dispatcher.queued).toBe(0);
    vi.advanceTimersByTime(500);
    expect(w2.sent).toEqual([]);
  });

  it('a call pinned to a worker (workerId) runs there, waits for it, and fails unknown_worker when it is not live', async () => {
    const [w1, w2] = [new FakeWorker('w1'), new FakeWorker('w2')];
    const { dispatcher, task, end } = setup([w1, w2], { untainted: (ws) => ws.filter((x) => x.id !== 'w2') });
    const first = task({ workerId: 'w2' });
    dispatcher.admit(first);
    expect(w2.sent).toEqual([first]); // the caller's choice beats taints and load
    const second = task({ workerId: 'w2' });
    dispatcher.admit(second);
    expect(dispatcher.queued).toBe(1);
    dispatcher.admit(task()); // an unpinned call does not take w2's queued call
    expect(w1.sent).toHaveLength(1);
    const unknown = task({ workerId: 'nope' });
    dispatcher.admit(unknown);
    await expect(unknown.promise).rejects.toMatchObject({ code: 'unknown_worker', category: 'validation', details: { pool: 'p', workerId: 'nope', workers: ['w1', 'w2'] } });
    w2.state = 'draining';
    const late = task({ workerId: 'w2' });
    dispatcher.admit(late);
    await expect(late.promise).rejects.toMatchObject({ code: 'unknown_worker', details: { workers: ['w1'] } });
    dispatcher.failPinnedTo('w2', new PoolError('gone', 'session_worker_unavailable'), new PoolError('chosen gone', 'pool_stopped'));
    await expect(second.promise).rejects.toMatchObject({ code: 'pool_stopped' });
    end(w2, first, true, 'ok');
    await expect(first.promise).resolves.toBe('ok');
  });

  it("a tainted worker that frees a slot takes only the calls the caller pinned to it", () => {
    const [w1, w2] = [new FakeWorker('w1'), new FakeWorker('w2')];
    const { dispatcher, task, end } = setup([w1, w2], { untainted: (ws) => ws.filter((x) => x.id !== 'w2') });
    const [a, b] = [task({ workerId: 'w2' }), task()];
    dispatcher.admit(a);
    dispatcher.admit(b); // w1
    const [anyWorker, chosen] = [task(), task({ workerId: 'w2' })];
    dispatcher.admit(anyWorker);
    dispatcher.admit(chosen);
    expect(dispatcher.queued).toBe(2);
    end(w2, a, true, 'a');
    expect(w2.sent).toEqual([a, chosen]);
    end(w1, b, true, 'b');
    expect(w1.sent).toEqual([b, anyWorker]);
  });

  it('binds a session to its worker; strict_fail_fast refuses while it is busy, and the binding can be released', async () => {
    const [w1, w2] = [new FakeWorker('w1'), new FakeWorker('w2')];
    const { dispatcher, task } = setup([w1, w2], {}, { affinity: 'strict_fail_fast' });
    dispatcher.admit(task({ sessionId: 's' }));
    expect(dispatcher.sessionWorker('s')).toBe('w1');
    const busy = task({ sessionId: 's' });
    dispatcher.admit(busy);
    await expect(busy.promise).rejects.toMatchObject({ code: 'session_worker_busy', details: { workerId: 'w1' } });
    dispatcher.releaseSession('s');
    expect(dispatcher.sessionWorker('s')).toBeUndefined();
  });

  it('fails queued calls (stop: not counted; unhealthy: counted) and those pinned to a gone worker', async () => {
    const w = new FakeWorker('w1');
    const { dispatcher, task } = setup([w], {}, { affinity: 'strict_queue' });
    dispatcher.admit(task({ sessionId: 's' }));
    const pinned = task({ sessionId: 's' });
    dispatcher.admit(pinned);
    dispatcher.failPinnedTo('w1', new PoolError('gone', 'session_worker_unavailable'));
    await expect(pinned.promise).rejects.toMatchObject({ code: 'session_worker_unavailable' });
    expect(dispatcher.counters.errors).toBe(1);
    const [a, b] = [task(), task()];
    dispatcher.admit(a);
    dispatcher.failQueued(new PoolError('stopped', 'pool_stopped'), false);
    dispatcher.admit(b);
    dispatcher.failQueued(new PoolError('unhealthy', 'pool_unhealthy'), true);
    await expect(a.promise).rejects.toMatchObject({ code: 'pool_stopped' });
    await expect(b.promise).rejects.toMatchObject({ code: 'pool_unhealthy' });
    expect(dispatcher.counters.errors).toBe(2);
  });

  it('hands a recycled worker its sessions and pinned calls over to the replacement', () => {
    const [old, fresh] = [new FakeWorker('old'), new FakeWorker('fresh')];
    fresh.state = 'starting';
    const { dispatcher, task } = setup([old, fresh], {}, { affinity: 'strict_queue' });
    dispatcher.admit(task({ sessionId: 's' }));
    const pinned = task({ sessionId: 's' });
    dispatcher.admit(pinned);
    fresh.state = 'ready';
    dispatcher.handOver(old as unknown as Worker, fresh as unknown as Worker);
    expect(dispatcher.sessionWorker('s')).toBe('fresh');
    expect(fresh.sent).toEqual([pinned]);
  });

  it('fails at once while the pool is unhealthy, without counting', async () => {
    const { dispatcher, task } = setup([new FakeWorker('w1')], { unhealthy: () => new PoolError('no worker', 'pool_unhealthy') });
    const t = task();
    dispatcher.admit(t);
    await expect(t.promise).rejects.toMatchObject({ code: 'pool_unhealthy' });
    expect(dispatcher.counters.errors).toBe(0);
  });

  it('a worker left free with nothing queued takes back the oldest call waiting inside another; it runs there, no retry spent', async () => {
    const busy = new FakeWorker('busy', 1, 4);
    const free = new FakeWorker('free', 1, 4);
    free.state = 'starting'; // everything goes to `busy` first
    const { dispatcher, task, end } = setup([busy, free]);
    const [running, older, younger] = [task(), task(), task()];
    for (const t of [running, older, younger]) dispatcher.admit(t);
    expect(busy.sent).toEqual([running, older, younger]);
    expect([running.running, older.running]).toEqual([true, false]);
    busy.waitingCalls.push([2, older], [3, younger]);
    free.state = 'ready';
    const quick = task();
    dispatcher.admit(quick); // to the free worker, which then ends it with nothing queued
    end(free, quick, true, 'q');
    expect(busy.recalled).toEqual([]); // not at once: the caller woken by that end may send its next call first
    balance();
    expect(busy.recalled).toEqual([2]); // the oldest waiting call, once
    busy.waitingCalls.shift();
    busy.inflight--;
    dispatcher.callReturned(busy as unknown as Worker, older);
    expect(free.sent.at(-1)).toBe(older);
    expect(older).toMatchObject({ worker: free, running: true, retries: 0, recalling: false });
    expect(dispatcher.counters.retries).toBe(0);
  });

  it("takes back what waits behind a long call, except calls bound to it by strict affinity", () => {
    const w = new FakeWorker('long', 1, 4);
    const { dispatcher, task, end } = setup([w], {}, { affinity: 'strict_queue' });
    const [loose, pinned] = [task(), task({ sessionId: 's' })];
    w.waitingCalls.push([7, loose], [8, pinned]);
    w.stalled = true;
    const other = task();
    dispatcher.admit(other);
    end(w, other, true, null); // any end in the pool looks for stalled workers
    balance();
    expect(w.recalled).toEqual([7]);
  });

  it('calls taken back together run again in arrival order, whatever order the answers come in', () => {
    const w = new FakeWorker('stalled', 1, 4);
    const { dispatcher, task, end } = setup([w]);
    const [long, a, b, c] = [task(), task(), task(), task()];
    for (const t of [long, a, b, c]) dispatcher.admit(t);
    w.waitingCalls.push([2, a], [3, b], [4, c]);
    w.stalled = true;
    dispatcher.admit(task({ workerId: 'stalled' })); // a pinned call: it waits there and is never taken back
    w.waitingCalls.push([5, w.sent.at(-1) as Task]);
    end(w, long, true, 'done'); // an end looks for stalled workers: all unpinned waiting calls are asked back
    balance();
    expect(w.recalled).toEqual([2, 3, 4]);
    w.stalled = false;
    w.waitingCalls.length = 0;
    const back = (t: Task) => {
      w.inflight--;
      dispatcher.callReturned(w as unknown as Worker, t);
    };
    const sentBefore = w.sent.length;
    back(c); // the youngest answers first (gRPC recalls are separate RPCs): it waits for the older ones
    back(a);
    expect(w.sent.slice(sentBefore)).toEqual([a]);
    back(b);
    expect(w.sent.slice(sentBefore)).toEqual([a, b, c]);
    expect(dispatcher.queued).toBe(0);
  });

  it('a call asked back too late (it had started) holds younger ones only until its worker says so', () => {
    const w = new FakeWorker('stalled', 1, 4);
    const { dispatcher, task, end } = setup([w]);
    const [long, a, b] = [task(), task(), task()];
    for (const t of [long, a, b]) dispatcher.admit(t);
    w.waitingCalls.push([2, a], [3, b]);
    w.stalled = true;
    end(w, long, true, 'done');
    balance();
    expect(w.recalled).toEqual([2, 3]);
    w.stalled = false;
    w.waitingCalls.length = 0;
    const sentBefore = w.sent.length;
    w.inflight--;
    dispatcher.callReturned(w as unknown as Worker, b);
    expect(w.sent.length).toBe(sentBefore); // `a` may still come back: `b` waits for it
    dispatcher.callKept(w as unknown as Worker, a);
    expect(w.sent.slice(sentBefore)).toEqual([b]);
    expect(a.recalling).toBe(false);
  });

  it('a call waiting inside a worker keeps its queue timeout: it fails and is cancelled there, unless it started first', async () => {
    const w = new FakeWorker('w', 1, 4);
    const { dispatcher, task } = setup([w], {}, { poolQueueTimeoutMs: 300 });
    const [first, waiting, startsInTime] = [task(), task(), task()];
    for (const t of [first, waiting, startsInTime]) dispatcher.admit(t);
    dispatcher.callStarted(w as unknown as Worker, startsInTime);
    vi.advanceTimersByTime(300);
    await expect(waiting.promise).rejects.toMatchObject({ code: 'queue_timeout' });
    expect(w.cancelled).toEqual([[2, 50]]);
    expect(startsInTime.settled).toBe(false);
    expect(dispatcher.counters.queueTimeouts).toBe(1);
  });
});
