// DNS discovery's bookkeeping (src/pool/discovery.ts): one slot per address, joins after a health
// check, delisted addresses handed back, DNS failures kept apart from empty answers, and the start's
// typed failures. The DNS lookup and the health check are given here; the real ones run against
// dnsmasq and container workers in test/grpc/netns-discovery.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PoolError, WorkerError } from '../../../src/errors.js';
import { Logger } from '../../../src/logger.js';
import { Discovery, type DiscoveryHooks } from '../../../src/pool/discovery.js';

const INTERVAL_MS = 1_000;
const settings = { dns: 'workers.test:50051', intervalMs: INTERVAL_MS, healthCheckTimeoutMs: 500 };
const template = { kind: 'attach' as const, token: 'tok', security: { insecure: true } };

/** A discovery over a changeable DNS answer and health verdicts, recording what it asks of its pool. */
function setUp(initial: string[]) {
  let answer: string[] | Error = initial;
  const unhealthy = new Map<string, Error>();
  const joined: string[] = [];
  const left: string[] = [];
  let changes = 0;
  const discovery: Discovery = new Discovery('p', settings, template, {
    join: async (slot) => {
      joined.push(discovery.take(slot).address);
    },
    leave: (slot) => left.push(`slot ${slot}`),
    changed: () => changes++,
    logger: new Logger('none'),
  } satisfies DiscoveryHooks, {
    resolve: async () => {
      if (answer instanceof Error) throw answer;
      return [...answer].sort();
    },
    check: async (address) => {
      const error = unhealthy.get(address);
      if (error) throw error;
    },
  });
  const round = () => vi.advanceTimersByTimeAsync(INTERVAL_MS);
  return {
    discovery,
    joined,
    left,
    changes: () => changes,
    unhealthy,
    round,
    set: (next: string[] | Error) => (answer = next),
    slotOf: (address: string) => [...discovery.addresses()].find(([, a]) => a === address)![0],
  };
}

const notServing = (address: string) => new WorkerError(`${address} not ready`, 'worker_start_failed', { address, reason: 'NOT_SERVING' });

describe('Discovery', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('joins every address at start, one slot each, with the pool template and the address', async () => {
    const t = setUp(['10.0.0.2:50051', '10.0.0.1:50051']);
    await t.discovery.start();
    expect(t.joined.sort()).toEqual(['10.0.0.1:50051', '10.0.0.2:50051']);
    expect(t.discovery.size).toBe(2);
    expect(t.discovery.take(t.slotOf('10.0.0.1:50051'))).toEqual({ ...template, address: '10.0.0.1:50051' });
    t.discovery.stop();
  });

  it('later rounds: a new address joins, a vanished one is handed back to drain', async () => {
    const t = setUp(['10.0.0.1:50051', '10.0.0.2:50051']);
    await t.discovery.start();
    const gone = t.slotOf('10.0.0.2:50051');
    t.set(['10.0.0.1:50051', '10.0.0.3:50051']);
    await t.round();
    expect(t.joined).toContain('10.0.0.3:50051');
    expect(t.left).toEqual([`slot ${gone}`]);
    expect(t.discovery.size).toBe(2);
    expect(t.changes()).toBe(2); // the start's set, then this change
    t.discovery.stop();
  });

  it('an address that fails its health check stays out and is tried again next round', async () => {
    const t = setUp(['10.0.0.1:50051']);
    await t.discovery.start();
    t.unhealthy.set('10.0.0.2:50051', notServing('10.0.0.2:50051'));
    t.set(['10.0.0.1:50051', '10.0.0.2:50051']);
    await t.round();
    expect(t.joined).toEqual(['10.0.0.1:50051']);
    t.unhealthy.clear();
    await t.round();
    expect(t.joined).toEqual(['10.0.0.1:50051', '10.0.0.2:50051']);
    t.discovery.stop();
  });

  it('a lost worker joins again while its address is listed; a removed one does not', async () => {
    const t = setUp(['10.0.0.1:50051', '10.0.0.2:50051']);
    await t.discovery.start();
    t.discovery.lost(t.slotOf('10.0.0.1:50051'));
    t.discovery.remove(t.slotOf('10.0.0.2:50051'));
    expect(t.discovery.removed).toBe(1);
    await t.round();
    await t.round();
    expect(t.joined.filter((a) => a === '10.0.0.1:50051')).toHaveLength(2);
    expect(t.joined.filter((a) => a === '10.0.0.2:50051')).toHaveLength(1);
    t.discovery.stop();
  });

  it('a failing DNS server keeps the workers; an empty answer hands them all back', async () => {
    const t = setUp(['10.0.0.1:50051']);
    await t.discovery.start();
    t.set(Object.assign(new Error('queryA ESERVFAIL'), { code: 'ESERVFAIL' }));
    await t.round();
    expect(t.left).toEqual([]);
    expect(t.discovery.size).toBe(1);
    t.set([]);
    await t.round();
    expect(t.left).toHaveLength(1);
    expect(t.discovery.size).toBe(0);
    t.discovery.stop();
  });

  it('an address delisted while it joins is handed back once its join completes', async () => {
    const t = setUp(['10.0.0.1:50051']);
    await t.discovery.start();
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    // As the pool does: it takes the slot's endpoint at once, then connects (slowly here).
    (t.discovery.hooks as { join: DiscoveryHooks['join'] }).join = async (slot) => {
      t.joined.push(t.discovery.take(slot).address);
      await slow;
    };
    t.set(['10.0.0.1:50051', '10.0.0.2:50051']);
    void t.round();
    await vi.advanceTimersByTimeAsync(0);
    t.set(['10.0.0.1:50051']);
    await t.round(); // delisted while its join waits
    expect(t.left).toEqual([]);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.left).toHaveLength(1);
    t.discovery.stop();
  });

  describe('start failures', () => {
    it('no records: discovery_failed naming the name', async () => {
      await expect(setUp([]).discovery.start()).rejects.toMatchObject({ code: 'discovery_failed', category: 'pool', details: { dns: 'workers.test:50051' } });
    });

    it('a failing DNS server: discovery_failed with its error as the cause', async () => {
      const t = setUp([]);
      const dnsError = Object.assign(new Error('queryA ETIMEOUT'), { code: 'ETIMEOUT' });
      t.set(dnsError);
      const error = (await t.discovery.start().catch((e: unknown) => e)) as PoolError;
      expect(error).toMatchObject({ code: 'discovery_failed' });
      expect(error.cause).toBe(dnsError);
    });

    it('no address could join: discovery_failed', async () => {
      const t = setUp(['10.0.0.1:50051']);
      t.unhealthy.set('10.0.0.1:50051', notServing('10.0.0.1:50051'));
      await expect(t.discovery.start()).rejects.toMatchObject({ code: 'discovery_failed' });
    });

    it('a failure only the config can cure (TLS, token) fails the start with itself, even when others joined', async () => {
      const t = setUp(['10.0.0.1:50051', '10.0.0.2:50051']);
      const tls = new WorkerError('TLS failed', 'tls_failed', { address: '10.0.0.2:50051', reason: 'untrusted' });
      t.unhealthy.set('10.0.0.2:50051', tls);
      await expect(t.discovery.start()).rejects.toBe(tls);
    });
  });
});
