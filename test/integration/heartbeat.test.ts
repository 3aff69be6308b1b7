// Heartbeats against real workers: a frozen (SIGSTOPped) worker is killed with worker_hung and
// replaced; a busy one is not; one miss is not enough; listWorkers shows the heartbeat fields.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerError, type Snakepit, type WorkerInfo } from '../../src/index.js';
import type { HeartbeatMiss } from '../../src/worker/heartbeat.js';
import type { WorkerExit } from '../../src/worker/worker.js';
import { processAlive, startPool, waitForFullPool } from '../helpers/pool.js';

const ADAPTER = 'heartbeat_adapter.HeartbeatAdapter';
/** Fast detection: two pings of 200 ms missed in a row, about half a second. */
const FAST = { pingIntervalMs: 100, timeoutMs: 200, maxMissedHeartbeats: 2 };
const EVENT_TIMEOUT_MS = 15_000;

describe('heartbeats', () => {
  let sp: Snakepit | undefined;
  const stopped = new Set<number>();

  /** SIGSTOP a worker; afterEach resumes it (and kills it if it outlived the instance). */
  const freeze = (pid: number) => {
    stopped.add(pid);
    process.kill(pid, 'SIGSTOP');
  };
  const resume = (pid: number) => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // already gone
    }
  };

  afterEach(async () => {
    for (const pid of stopped) resume(pid);
    await sp?.stop();
    sp = undefined;
    for (const pid of stopped) {
      if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    stopped.clear();
  });

  it('kills a frozen worker, fails its call with worker_hung and replaces it', async () => {
    ({ sp } = await startPool({ adapter: ADAPTER, heartbeat: FAST }));
    const pool = sp.pool();
    const [victim] = sp.listWorkers();
    const misses: HeartbeatMiss[] = [];
    pool.on('worker:heartbeat-missed', (_info: WorkerInfo, miss: HeartbeatMiss) => misses.push(miss));
    const exited = once(pool, 'worker:exit', { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) });
    const call = sp.execute('block', { ms: 60_000 }, { timeoutMs: 60_000 });
    expect(sp.listWorkers()[0]!.inflight).toBe(1);
    const frozenAt = performance.now();
    freeze(victim!.pid!);

    const error = await call.catch((e: unknown) => e);
    const [info, exit] = (await exited) as [WorkerInfo, WorkerExit];
    const detectionMs = performance.now() - frozenAt;
    expect(error).toBeInstanceOf(WorkerError);
    expect(error).toMatchObject({ code: 'worker_hung', category: 'worker', details: { workerId: victim!.id } });
    expect(info.id).toBe(victim!.id);
    expect(exit).toMatchObject({ expected: true, signal: 'SIGKILL' });
    expect(misses.map((m) => m.missed)).toEqual([1, 2]);
    expect(misses.every((m) => m.maxMissed === 2 && m.reason === 'timeout')).toBe(true);
    // Two 200 ms timeouts back to back, plus the kill; generous bound for a loaded machine.
    expect(detectionMs).toBeGreaterThanOrEqual(2 * FAST.timeoutMs);
    expect(detectionMs).toBeLessThan(5_000);
    if (process.env.SNAKEPIT_TEST_REPORT_TIMINGS) console.info(`heartbeat detection (${process.env.SNAKEPIT_TEST_TRANSPORT}): ${detectionMs.toFixed(0)} ms`);

    await waitForFullPool(sp, 1);
    const [replacement] = sp.listWorkers();
    expect(replacement!.pid).not.toBe(victim!.pid);
    expect(processAlive(victim!.pid!)).toBe(false);
    await expect(sp.execute('pid')).resolves.toBe(replacement!.pid);
  });

  it('one missed ping does not kill: the count resets on the next pong', async () => {
    ({ sp } = await startPool({ adapter: ADAPTER, heartbeat: { ...FAST, maxMissedHeartbeats: 3 } }));
    const pool = sp.pool();
    const [worker] = sp.listWorkers();
    let exits = 0;
    pool.on('worker:exit', () => exits++);
    const call = sp.execute('block', { ms: 300 });
    const missed = once(pool, 'worker:heartbeat-missed', { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) });
    const recovered = once(pool, 'worker:heartbeat-recovered', { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) });
    freeze(worker!.pid!);

    const [missedInfo, miss] = (await missed) as [WorkerInfo, HeartbeatMiss];
    resume(worker!.pid!);
    expect(miss).toMatchObject({ missed: 1, maxMissed: 3, reason: 'timeout' });
    expect(missedInfo.missedHeartbeats).toBe(1);
    const [recoveredInfo, missedBefore] = (await recovered) as [WorkerInfo, number];
    expect(missedBefore).toBeGreaterThanOrEqual(1);
    expect(missedBefore).toBeLessThan(3);
    expect(recoveredInfo).toMatchObject({ id: worker!.id, missedHeartbeats: 0 });

    await expect(call).resolves.toMatchObject({ blocked_ms: 300, pid: worker!.pid });
    expect(exits).toBe(0);
    expect(sp.listWorkers()).toMatchObject([{ id: worker!.id, pid: worker!.pid, missedHeartbeats: 0 }]);
    expect(processAlive(worker!.pid!)).toBe(true);
  });

  it('dependent: false keeps a frozen worker: unresponsive (no new calls, not killed) until it answers again', async () => {
    ({ sp } = await startPool({ adapter: ADAPTER, heartbeat: { ...FAST, dependent: false } }));
    const pool = sp.pool();
    const [worker] = sp.listWorkers();
    let exits = 0;
    pool.on('worker:exit', () => exits++);
    const streak = new Promise<HeartbeatMiss>((resolve, reject) => {
      AbortSignal.timeout(EVENT_TIMEOUT_MS).addEventListener('abort', () => reject(new Error('no streak of misses')));
      pool.on('worker:heartbeat-missed', (_info: WorkerInfo, miss: HeartbeatMiss) => miss.missed >= miss.maxMissed && resolve(miss));
    });
    freeze(worker!.pid!);

    expect(await streak).toMatchObject({ missed: FAST.maxMissedHeartbeats, reason: 'timeout' });
    // Marked, not killed: a call now waits in the pool's queue instead of going to the frozen worker.
    const call = sp.execute('pid');
    expect(sp.stats().queued).toBe(1);
    expect(sp.listWorkers()[0]!.inflight).toBe(0);
    const recovered = once(pool, 'worker:heartbeat-recovered', { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) });
    resume(worker!.pid!);
    const [info, missedBefore] = (await recovered) as [WorkerInfo, number];
    expect(missedBefore).toBeGreaterThanOrEqual(FAST.maxMissedHeartbeats);
    expect(info.id).toBe(worker!.id);

    await expect(call).resolves.toBe(worker!.pid); // the same worker, back in service
    expect(exits).toBe(0);
    expect(processAlive(worker!.pid!)).toBe(true);
  });

  it("category 'heartbeat' at info shows heartbeat logs while the other categories stay at error", async () => {
    const started = await startPool({ adapter: ADAPTER, heartbeat: { ...FAST, maxMissedHeartbeats: 3 } }, { logLevel: 'error' }, { logCategories: { heartbeat: 'info' } });
    sp = started.sp;
    const { logs } = started;
    const pool = sp.pool();
    const [worker] = sp.listWorkers();
    const missed = once(pool, 'worker:heartbeat-missed', { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) });
    const recovered = once(pool, 'worker:heartbeat-recovered', { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) });
    freeze(worker!.pid!);
    await missed;
    resume(worker!.pid!);
    await recovered;
    const heartbeat = logs.filter((r) => r.context.category === 'heartbeat');
    expect(heartbeat.map((r) => r.level)).toEqual(expect.arrayContaining(['warn', 'info']));
    expect(heartbeat[0]!.context).toMatchObject({ workerId: worker!.id, pool: 'default' });
    expect(logs.filter((r) => r.context.category !== 'heartbeat' && r.level !== 'error')).toEqual([]);
  });

  // Each call keeps its thread (or its loop) busy for ten ping intervals, more than enough for
  // maxMissedHeartbeats timeouts: a worker whose pongs waited for the tool would be killed.
  describe.each([
    ['process', {}],
    ['thread', { workerProfile: 'thread', threadsPerWorker: 2 }],
  ])('a busy worker is not killed (%s profile)', (_profile, poolConfig) => {
    it.each([
      ['a sync tool sleeping', 'block'],
      ['an async tool blocking its loop with time.sleep', 'block_loop'],
      ['a pure-Python loop', 'spin'],
    ])('%s', async (_what, tool) => {
      ({ sp } = await startPool({ adapter: ADAPTER, ...poolConfig, heartbeat: { pingIntervalMs: 50, timeoutMs: 300, maxMissedHeartbeats: 3 } }));
      const pool = sp.pool();
      const [worker] = sp.listWorkers();
      const misses: HeartbeatMiss[] = [];
      pool.on('worker:heartbeat-missed', (_info: WorkerInfo, miss: HeartbeatMiss) => misses.push(miss));
      const startedAt = Date.now();
      await expect(sp.execute(tool, { ms: 1_500 })).resolves.toMatchObject({ pid: worker!.pid });
      expect(misses).toEqual([]);
      const [after] = sp.listWorkers();
      expect(after).toMatchObject({ id: worker!.id, missedHeartbeats: 0 });
      expect(after!.lastHeartbeatAt).toBeGreaterThanOrEqual(startedAt);
    });
  });

  it('listWorkers shows the heartbeat fields; null before the first pong', async () => {
    ({ sp } = await startPool({ adapter: ADAPTER, poolSize: 1, heartbeat: { initialDelayMs: 60_000 } }));
    expect(sp.listWorkers()[0]).toMatchObject({ lastHeartbeatAt: null, heartbeatAgeMs: null, missedHeartbeats: 0 });
    await sp.stop();
    ({ sp } = await startPool({ adapter: ADAPTER, heartbeat: FAST }));
    const [worker] = sp.listWorkers();
    // A miss and its recovery are the events there are; a pong after a freeze gives the timestamp.
    const missed = once(sp.pool(), 'worker:heartbeat-missed', { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) });
    const recovered = once(sp.pool(), 'worker:heartbeat-recovered', { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) });
    freeze(worker!.pid!);
    await missed;
    resume(worker!.pid!);
    await recovered;
    const [info] = sp.listWorkers();
    expect(info!.lastHeartbeatAt).toEqual(expect.any(Number));
    expect(info!.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
    expect(info!.missedHeartbeats).toBe(0);
  });

  it('passes the settings to Python, and none when heartbeats are off', async () => {
    ({ sp } = await startPool({ adapter: ADAPTER, heartbeat: { ...FAST, initialDelayMs: 5, dependent: false } }));
    await expect(sp.execute('heartbeat_env')).resolves.toEqual({
      SNAKEPIT_HEARTBEAT_INTERVAL_MS: '100',
      SNAKEPIT_HEARTBEAT_TIMEOUT_MS: '200',
      SNAKEPIT_HEARTBEAT_MAX_MISSED: '2',
      SNAKEPIT_HEARTBEAT_INITIAL_DELAY_MS: '5',
      SNAKEPIT_HEARTBEAT_DEPENDENT: '0',
    });
    await sp.stop();
    ({ sp } = await startPool({ adapter: ADAPTER, heartbeat: { enabled: false } }));
    await expect(sp.execute('heartbeat_env')).resolves.toEqual({});
    expect(sp.listWorkers()[0]).toMatchObject({ lastHeartbeatAt: null, heartbeatAgeMs: null, missedHeartbeats: 0 });
  });
});
