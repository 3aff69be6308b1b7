import { EventEmitter, once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '../../../src/logger.js';
import { dueReason, LifecycleManager, readPrivateMb, readRssMb, readWorkerMemoryMb, ttlToMs, type LifecycleOptions, type RecycleHooks } from '../../../src/pool/lifecycle.js';
import type { Worker } from '../../../src/worker/worker.js';

/** Enough of a Worker for the lifecycle manager: state, counters, drain/resume/stop. */
class FakeWorker extends EventEmitter {
  state = 'ready';
  inflight = 0;
  requests = 0;
  attached = false;
  pid: number | undefined = undefined;
  startedAt = Date.now();
  stopped = false;
  constructor(readonly id: string) {
    super();
  }
  drain(): boolean {
    if (this.state !== 'ready' && this.state !== 'busy') return false;
    this.state = 'draining';
    return true;
  }
  resume(): boolean {
    if (this.state !== 'draining' || this.stopped) return false;
    this.state = 'ready';
    return true;
  }
  finishCall(): void {
    this.inflight--;
    this.requests++;
    if (this.state === 'draining' && this.inflight === 0) this.emit('drained');
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    this.emit('exit', { exitCode: 0, signal: null, expected: true });
  }
}

const asWorker = (w: FakeWorker) => w as unknown as Worker;
const options = (o: Partial<LifecycleOptions> = {}): LifecycleOptions => ({ ttlMs: Infinity, maxRequests: Infinity, memoryThresholdMb: undefined, checkIntervalMs: 1_000, ...o });

function setup(workers: FakeWorker[], o: Partial<LifecycleOptions> = {}, spawn?: () => Promise<FakeWorker>) {
  const events = new EventEmitter();
  let n = 100;
  const hooks: RecycleHooks = {
    workers: () => workers.map(asWorker),
    spawnReplacement: vi.fn(async () => {
      const fresh = spawn ? await spawn() : new FakeWorker(`w-${n++}`);
      workers.push(fresh);
      return asWorker(fresh);
    }),
    handOver: vi.fn(() => void events.emit('handover')),
    resume: vi.fn(),
    vacate: vi.fn(),
    recycled: vi.fn((old: Worker, reason: string) => {
      workers.splice(workers.indexOf(old as unknown as FakeWorker), 1);
      events.emit('recycled', old.id, reason);
    }),
    gracefulShutdownTimeoutMs: 100,
    logger: new Logger('none'),
  };
  return { manager: new LifecycleManager(options(o), hooks), hooks, events };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ttlToMs and dueReason', () => {
  it('converts the config form', () => {
    expect(ttlToMs('infinity')).toBe(Infinity);
    expect(ttlToMs({ value: 2, unit: 'seconds' })).toBe(2_000);
    expect(ttlToMs({ value: 3, unit: 'minutes' })).toBe(180_000);
    expect(ttlToMs({ value: 1, unit: 'hours' })).toBe(3_600_000);
  });

  it('is due at max requests, then at the TTL', () => {
    const o = options({ ttlMs: 1_000, maxRequests: 5 });
    expect(dueReason({ startedAt: 0, requests: 4 }, o, 999)).toBeUndefined();
    expect(dueReason({ startedAt: 0, requests: 5 }, o, 0)).toBe('max_requests');
    expect(dueReason({ startedAt: 0, requests: 0 }, o, 1_000)).toBe('ttl');
    expect(dueReason({ startedAt: 0, requests: 1e9 }, options(), 1e12)).toBeUndefined();
  });
});

describe('readRssMb', () => {
  it("reads a live process's resident memory, undefined for a missing one", async () => {
    const rss = await readRssMb(process.pid);
    expect(rss).toBeGreaterThan(1);
    expect(await readRssMb(2 ** 30)).toBeUndefined();
  });
});

describe('readWorkerMemoryMb', () => {
  it("reads a spawned worker's resident memory and a forked one's private memory", async () => {
    const [rss, own] = [await readRssMb(process.pid), await readPrivateMb(process.pid)];
    // This process shares libraries with others: its private memory is less than its RSS.
    expect(own).toBeGreaterThan(1);
    expect(own).toBeLessThan(rss!);
    expect(await readWorkerMemoryMb({ pid: process.pid, startMode: 'fork' })).toBeCloseTo(own!, -1);
    expect(await readWorkerMemoryMb({ pid: process.pid, startMode: 'spawn' })).toBeCloseTo(rss!, -1);
    expect(await readWorkerMemoryMb({ pid: undefined, startMode: 'fork' })).toBeUndefined();
    expect(await readPrivateMb(2 ** 30)).toBeUndefined();
  });
});

describe('LifecycleManager.recycle', () => {
  it('drains the old worker, starts the replacement, hands over, waits for its calls, then stops it', async () => {
    const old = new FakeWorker('w-1');
    old.inflight = 1;
    old.state = 'busy';
    const { manager, hooks, events } = setup([old]);
    const handedOver = once(events, 'handover');
    const done = manager.recycle(asWorker(old), 'manual');
    expect(old.state).toBe('draining');
    expect(manager.isRecycling(asWorker(old))).toBe(true);
    await handedOver;
    expect(old.stopped).toBe(false);
    old.finishCall();
    await done;
    expect(old.stopped).toBe(true);
    expect(hooks.recycled).toHaveBeenCalledWith(old, 'manual', expect.anything(), undefined);
    expect(manager.counts).toEqual({ ttl: 0, max_requests: 0, memory: 0, manual: 1 });
    expect(manager.total).toBe(1);
    expect(manager.isRecycling(asWorker(old))).toBe(false);
  });

  it('a second request for the same worker joins the first', async () => {
    const old = new FakeWorker('w-1');
    const { manager, hooks } = setup([old]);
    const a = manager.recycle(asWorker(old), 'manual');
    const b = manager.recycle(asWorker(old), 'ttl');
    const [outcomeA, outcomeB] = await Promise.all([a, b]);
    // Both settle with the one recycle's outcome: its reason is the first request's.
    expect(outcomeA).toMatchObject({ workerId: 'w-1', reason: 'manual' });
    expect(outcomeB).toEqual(outcomeA);
    expect(hooks.spawnReplacement).toHaveBeenCalledTimes(1);
    expect(manager.counts.manual).toBe(1);
  });

  it('a failed replacement puts the old worker back to work and rejects', async () => {
    const old = new FakeWorker('w-1');
    const { manager, hooks } = setup([old], {}, () => Promise.reject(new Error('no start')));
    await expect(manager.recycle(asWorker(old), 'manual')).rejects.toThrow('no start');
    expect(old.state).toBe('ready');
    expect(hooks.resume).toHaveBeenCalledWith(old);
    expect(hooks.vacate).not.toHaveBeenCalled();
    expect(manager.total).toBe(0);
  });

  it('a failed replacement for a worker that died meanwhile vacates its slot', async () => {
    const old = new FakeWorker('w-1');
    const { manager, hooks } = setup([old], {}, async () => {
      old.state = 'stopped';
      throw new Error('no start');
    });
    await expect(manager.recycle(asWorker(old), 'manual')).rejects.toThrow('no start');
    expect(hooks.vacate).toHaveBeenCalledWith(old);
  });

  it('recycleById rejects unknown and attached workers with ValidationErrors', async () => {
    const attached = new FakeWorker('w-2');
    attached.attached = true;
    const { manager } = setup([new FakeWorker('w-1'), attached]);
    await expect(manager.recycleById('p', 'nope')).rejects.toMatchObject({ code: 'unknown_worker', category: 'validation', details: { workers: ['w-1', 'w-2'] } });
    await expect(manager.recycleById('p', 'w-2')).rejects.toMatchObject({ code: 'invalid_argument', category: 'validation' });
  });
});

describe('LifecycleManager checks', () => {
  it('afterCall recycles at maxRequests', async () => {
    const w = new FakeWorker('w-1');
    const { manager, events } = setup([w], { maxRequests: 3 });
    w.requests = 2;
    manager.afterCall(asWorker(w));
    expect(w.state).toBe('ready');
    w.requests = 3;
    const recycled = once(events, 'recycled');
    manager.afterCall(asWorker(w));
    expect(w.state).toBe('draining');
    expect(await recycled).toEqual(['w-1', 'max_requests']);
  });

  it('check recycles by TTL, one worker at a time, never attached ones', async () => {
    const [a, b, c] = [new FakeWorker('w-1'), new FakeWorker('w-2'), new FakeWorker('w-3')];
    c.attached = true;
    for (const w of [a, b, c]) w.startedAt = Date.now() - 10_000;
    const { manager, events, hooks } = setup([c, a, b], { ttlMs: 5_000 });
    let replaced!: () => void;
    const gate = new Promise<void>((resolve) => (replaced = resolve));
    (hooks.spawnReplacement as ReturnType<typeof vi.fn>).mockImplementationOnce(async () => {
      await gate;
      return asWorker(new FakeWorker('w-9'));
    });
    await manager.check();
    expect([a.state, b.state, c.state]).toEqual(['draining', 'ready', 'ready']);
    await manager.check();
    expect(b.state).toBe('ready');
    const first = once(events, 'recycled');
    replaced();
    expect(await first).toEqual(['w-1', 'ttl']);
    await manager.check();
    expect(b.state).toBe('draining');
    expect(c.state).toBe('ready');
  });

  it('check recycles a worker over the memory threshold (this process stands in for Python)', async () => {
    const w = new FakeWorker('w-1');
    w.pid = process.pid;
    const { manager, events } = setup([w], { memoryThresholdMb: 1 });
    const recycled = once(events, 'recycled');
    await manager.check();
    expect(await recycled).toEqual(['w-1', 'memory']);
    expect(manager.counts.memory).toBe(1);
  });

  it('runs checks on its interval once started, and not after stop', async () => {
    vi.useFakeTimers();
    const w = new FakeWorker('w-1');
    const { manager } = setup([w], { ttlMs: 1_000, checkIntervalMs: 100 });
    manager.start();
    await vi.advanceTimersByTimeAsync(500);
    expect(w.state).toBe('ready');
    manager.stop();
    w.startedAt = Date.now() - 2_000;
    await vi.advanceTimersByTimeAsync(500);
    expect(w.state).toBe('ready');
    manager.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(w.stopped).toBe(true);
    manager.stop();
  });

  it('does not start a timer without any rule', () => {
    const { manager } = setup([new FakeWorker('w-1')]);
    expect(manager.enabled).toBe(false);
  });
});
