// HeartbeatMonitor with fake timers and a scripted ping: cadence, misses, recovery, death, stop.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError, WorkerError } from '../../../src/errors.js';
import { HEARTBEAT_ENV, HeartbeatMonitor, withHeartbeatEnv, type HeartbeatMiss, type HeartbeatSettings } from '../../../src/worker/heartbeat.js';

const SETTINGS: HeartbeatSettings = { enabled: true, pingIntervalMs: 100, timeoutMs: 50, maxMissedHeartbeats: 3, initialDelayMs: 0, dependent: true };

type Answer = 'pong' | 'slow' | 'hang' | 'fail' | 'timeout-error';

/** A monitor whose pings answer from `answers` (last one repeats), recording what it reports. */
function monitor(settings: Partial<HeartbeatSettings> = {}, answers: Answer[] = ['pong']) {
  const log = { pings: 0, outstanding: 0, maxOutstanding: 0, missed: [] as HeartbeatMiss[], recovered: [] as number[], dead: [] as HeartbeatMiss[], unresponsive: [] as HeartbeatMiss[] };
  const ping = () => {
    const answer = answers[Math.min(log.pings, answers.length - 1)]!;
    log.pings++;
    log.outstanding++;
    log.maxOutstanding = Math.max(log.maxOutstanding, log.outstanding);
    const done = () => log.outstanding--;
    if (answer === 'pong') return Promise.resolve().finally(done);
    if (answer === 'slow') return new Promise<void>((resolve) => setTimeout(resolve, 30)).finally(done);
    if (answer === 'fail') return Promise.reject(new WorkerError('gone', 'worker_crashed')).finally(done);
    if (answer === 'timeout-error') {
      return new Promise<void>((_, reject) => setTimeout(() => reject(new TimeoutError('late', 'call_timeout', 10)), 10)).finally(done);
    }
    return new Promise<void>(() => {}); // never settles: only the monitor's own deadline ends it
  };
  const m = new HeartbeatMonitor({ ...SETTINGS, ...settings }, {
    ping,
    onMissed: (miss) => log.missed.push(miss),
    onRecovered: (n) => log.recovered.push(n),
    onDead: (miss) => log.dead.push(miss),
    onUnresponsive: (miss) => log.unresponsive.push(miss),
  });
  return { m, log };
}

describe('HeartbeatMonitor', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('pings every pingIntervalMs after initialDelayMs and records the pong time', async () => {
    const { m, log } = monitor({ initialDelayMs: 500 });
    await vi.advanceTimersByTimeAsync(499);
    expect(log.pings).toBe(0);
    expect(m.status()).toEqual({ lastHeartbeatAt: null, missedHeartbeats: 0 });
    await vi.advanceTimersByTimeAsync(1);
    expect(log.pings).toBe(1);
    expect(m.status()).toEqual({ lastHeartbeatAt: 1_000_500, missedHeartbeats: 0 });
    await vi.advanceTimersByTimeAsync(300);
    expect(log.pings).toBe(4);
    m.stop();
  });

  it('counts a ping past timeoutMs as a miss and kills after maxMissedHeartbeats in a row', async () => {
    const { m, log } = monitor({}, ['hang']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(log.missed.map((x) => [x.missed, x.reason])).toEqual([[1, 'timeout'], [2, 'timeout'], [3, 'timeout']]);
    expect(log.dead).toEqual([{ missed: 3, maxMissed: 3, reason: 'timeout' }]);
    expect(m.stopped).toBe(true);
    expect(log.pings).toBe(3); // nothing after death
  });

  it('dependent: false never kills: the worker is reported unresponsive once per streak, pinged on, and recovers on a pong', async () => {
    const { m, log } = monitor({ dependent: false }, ['hang', 'hang', 'hang', 'hang', 'hang', 'pong', 'hang', 'hang', 'hang']);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(log.dead).toEqual([]);
    expect(m.stopped).toBe(false);
    expect(log.missed.slice(0, 9).map((x) => x.missed)).toEqual([1, 2, 3, 4, 5, 1, 2, 3, 4]); // the 6th ping ponged
    expect(log.pings).toBeGreaterThan(10); // still pinging long after maxMissedHeartbeats
    expect(log.unresponsive.map((x) => x.missed)).toEqual([3, 3]);
    expect(log.recovered).toEqual([5]);
    m.stop();
  });

  it('never overlaps pings: a slow pong or a timeout delays the next ping until it settles', async () => {
    const slow = monitor({ pingIntervalMs: 10, timeoutMs: 40 }, ['slow']);
    await vi.advanceTimersByTimeAsync(300);
    expect(slow.log.pings).toBe(10); // one per 30 ms answer, not one per 10 ms interval
    expect(slow.log.maxOutstanding).toBe(1);
    expect(slow.log.missed).toEqual([]);
    slow.m.stop();
    const hung = monitor({ pingIntervalMs: 10, timeoutMs: 40, maxMissedHeartbeats: 100 }, ['hang']);
    await vi.advanceTimersByTimeAsync(400);
    expect(hung.log.pings).toBe(10); // one per 40 ms timeout: back to back, never two at once
    expect(hung.log.missed).toHaveLength(9); // the 10th is still waiting
    hung.m.stop();
  });

  it('classifies failed pings and transport deadlines', async () => {
    const { m, log } = monitor({ maxMissedHeartbeats: 10 }, ['fail', 'timeout-error']);
    await vi.advanceTimersByTimeAsync(150);
    expect(log.missed[0]).toMatchObject({ missed: 1, reason: 'error', error: { code: 'worker_crashed' } });
    expect(log.missed[1]).toMatchObject({ missed: 2, reason: 'timeout' });
    expect(log.missed[1]!.error).toBeUndefined();
    m.stop();
  });

  it('a pong resets the count, so misses that are not in a row never kill', async () => {
    const { m, log } = monitor({}, ['hang', 'hang', 'pong', 'hang', 'hang', 'pong']);
    await vi.advanceTimersByTimeAsync(600);
    expect(log.missed.map((x) => x.missed)).toEqual([1, 2, 1, 2]);
    expect(log.recovered).toEqual([2, 2]);
    expect(log.dead).toEqual([]);
    expect(m.status().missedHeartbeats).toBe(0);
    m.stop();
  });

  it('stop() ends pinging, and a ping in flight then settles unreported', async () => {
    const { m, log } = monitor({ timeoutMs: 1_000 }, ['hang']);
    await vi.advanceTimersByTimeAsync(1);
    m.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(log.pings).toBe(1);
    expect(log.missed).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('withHeartbeatEnv', () => {
  it('sets the variables Python reads', () => {
    expect(withHeartbeatEnv({ PATH: '/bin' }, { ...SETTINGS, initialDelayMs: 7, dependent: false })).toEqual({
      PATH: '/bin',
      [HEARTBEAT_ENV.intervalMs]: '100',
      [HEARTBEAT_ENV.timeoutMs]: '50',
      [HEARTBEAT_ENV.maxMissed]: '3',
      [HEARTBEAT_ENV.initialDelayMs]: '7',
      [HEARTBEAT_ENV.dependent]: '0',
    });
  });

  it('removes inherited variables when heartbeats are off', () => {
    const env = { PATH: '/bin', [HEARTBEAT_ENV.intervalMs]: '5', [HEARTBEAT_ENV.dependent]: '1' };
    expect(withHeartbeatEnv(env, { ...SETTINGS, enabled: false })).toEqual({ PATH: '/bin' });
  });
});
