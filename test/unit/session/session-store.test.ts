import { afterEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { type SessionEndReason, type SessionRecord, SessionStore } from '../../../src/session/session-store.js';
import { thrown } from '../../helpers/thrown.js';

/** A store on a hand-driven clock, recording the events it emits. */
function setup(options: { defaultTtlMs?: number } = {}) {
  const clock = { t: 1_000 };
  const store = new SessionStore({ defaultTtlMs: options.defaultTtlMs ?? 100, cleanupIntervalMs: 50, now: () => clock.t });
  const created: string[] = [];
  const ended: [string, SessionEndReason][] = [];
  store.on('session:created', (r) => created.push(r.id));
  store.on('session:ended', (r, reason) => ended.push([r.id, reason]));
  return { store, clock, created, ended };
}

describe('SessionStore lifecycle', () => {
  it('creates a session with defaults and emits session:created', () => {
    const { store, created } = setup();
    const r = store.create('s1');
    expect(r).toMatchObject({ id: 's1', createdAt: 1_000, lastAccessedAt: 1_000, ttlMs: 100, lastWorkerId: undefined, metadata: {} });
    expect(r.stats).toStrictEqual({ calls: 0, errors: 0, hostToolCalls: 0 });
    expect([r.programs.size, r.state.size, r.servedBy.size]).toEqual([0, 0, 0]);
    expect(created).toEqual(['s1']);
  });

  it('takes its own ttl and a copy of the metadata', () => {
    const { store } = setup();
    const metadata = { user: 'u' };
    const r = store.create('s1', { ttlMs: 5_000, metadata });
    metadata.user = 'changed';
    expect(r).toMatchObject({ ttlMs: 5_000, metadata: { user: 'u' } });
  });

  it('refuses an id in use with invalid_argument', () => {
    const { store } = setup();
    store.create('s1');
    const error = thrown(() => store.create('s1'));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.code).toBe('invalid_argument');
    expect(error.details).toStrictEqual({ sessionId: 's1' });
  });

  it('reuses the id of an expired session, ending it first', () => {
    const { store, clock, ended } = setup();
    const old = store.create('s1');
    clock.t += 101;
    const fresh = store.create('s1');
    expect(fresh).not.toBe(old);
    expect(ended).toEqual([['s1', 'expired']]);
  });

  it.each([
    ['empty id', (s: SessionStore) => s.create(''), 'id'],
    ['non-string id', (s: SessionStore) => s.create(7 as never), 'id'],
    ['zero ttl', (s: SessionStore) => s.create('s', { ttlMs: 0 }), 'ttlMs'],
    ['fractional ttl', (s: SessionStore) => s.create('s', { ttlMs: 1.5 }), 'ttlMs'],
    ['array metadata', (s: SessionStore) => s.create('s', { metadata: [] as never }), 'metadata'],
  ])('rejects an %s naming the field', (_what, make, field) => {
    const { store } = setup();
    const error = thrown(() => make(store));
    expect(error.code).toBe('invalid_argument');
    expect(error.details).toMatchObject({ field, expected: expect.any(String), received: expect.any(String) });
  });

  it.each([
    ['defaultTtlMs', { defaultTtlMs: 0, cleanupIntervalMs: 1 }],
    ['cleanupIntervalMs', { defaultTtlMs: 1, cleanupIntervalMs: -5 }],
  ])('rejects a bad %s at construction', (field, options) => {
    const error = thrown(() => new SessionStore(options));
    expect(error.code).toBe('invalid_argument');
    expect(error.details.field).toBe(field);
  });

  it('ensure returns the existing session, touched, or creates one', () => {
    const { store, clock, created } = setup();
    const r = store.ensure('s1', { ttlMs: 500 });
    expect(r.ttlMs).toBe(500);
    clock.t += 50;
    expect(store.ensure('s1', { ttlMs: 9 })).toBe(r);
    expect(r).toMatchObject({ ttlMs: 500, lastAccessedAt: 1_050 });
    expect(created).toEqual(['s1']);
  });

  it('deletes, emitting session:ended with deleted', () => {
    const { store, ended } = setup();
    store.create('s1');
    let seenInside: boolean | undefined;
    store.on('session:ended', () => (seenInside = store.has('s1')));
    expect(store.delete('s1')).toBe(true);
    expect(store.delete('s1')).toBe(false);
    expect(ended).toEqual([['s1', 'deleted']]);
    expect(seenInside).toBe(false);
    expect(store.get('s1')).toBeUndefined();
  });
});

describe('SessionStore access and expiry', () => {
  it('get touches unless told not to', () => {
    const { store, clock } = setup();
    const r = store.create('s1');
    clock.t = 1_040;
    expect(store.get('s1', { touch: false })).toBe(r);
    expect(r.lastAccessedAt).toBe(1_000);
    expect(store.get('s1')).toBe(r);
    expect(r.lastAccessedAt).toBe(1_040);
  });

  it('a touched session lives on past its original ttl', () => {
    const { store, clock } = setup();
    store.create('s1');
    clock.t = 1_090;
    expect(store.touch('s1')).toBe(true);
    clock.t = 1_180;
    expect(store.has('s1')).toBe(true);
    expect(store.touch('missing')).toBe(false);
  });

  it('expires after ttlMs without access (exactly ttlMs is still alive)', () => {
    const { store, clock } = setup();
    const r = store.create('s1');
    expect(store.isExpired(r, 1_100)).toBe(false);
    expect(store.isExpired(r, 1_101)).toBe(true);
    clock.t = 1_100;
    expect(store.isExpired(r)).toBe(false);
    clock.t = 1_101;
    expect(store.isExpired(r)).toBe(true);
  });

  it('ends an expired session found by get, at once', () => {
    const { store, clock, ended } = setup();
    store.create('s1');
    clock.t += 101;
    expect(store.get('s1')).toBeUndefined();
    expect(ended).toEqual([['s1', 'expired']]);
    expect(store.get('s1')).toBeUndefined();
    expect(ended).toHaveLength(1);
  });

  it('has, list and size leave out expired sessions', () => {
    const { store, clock } = setup();
    store.create('short', { ttlMs: 10 });
    store.create('long', { ttlMs: 1_000 });
    expect(store.list()).toEqual(['short', 'long']);
    expect(store.size).toBe(2);
    clock.t += 11;
    expect(store.list()).toEqual(['long']);
    expect(store.size).toBe(1);
    expect(store.has('short')).toBe(false);
    expect(store.has('long')).toBe(true);
  });

  it('require throws unknown_session for missing and expired sessions', () => {
    const { store, clock } = setup();
    store.create('s1');
    expect(store.require('s1').id).toBe('s1');
    clock.t += 101;
    for (const id of ['s1', 'nope']) {
      const error = thrown(() => store.require(id));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.code).toBe('unknown_session');
      expect(error.details).toStrictEqual({ sessionId: id });
    }
  });

  it('cleanupExpired ends only the expired ones and counts them', () => {
    const { store, clock, ended } = setup();
    store.create('a', { ttlMs: 10 });
    store.create('b', { ttlMs: 20 });
    store.create('c', { ttlMs: 1_000 });
    clock.t += 15;
    expect(store.cleanupExpired()).toBe(1);
    clock.t += 10;
    expect(store.cleanupExpired()).toBe(1);
    expect(store.cleanupExpired()).toBe(0);
    expect(ended).toEqual([['a', 'expired'], ['b', 'expired']]);
    expect(store.list()).toEqual(['c']);
  });
});

describe('SessionStore dispatch and stats', () => {
  it('records the workers that serve a session', () => {
    const { store, clock } = setup();
    const r = store.create('s1');
    clock.t = 1_050;
    expect(store.recordDispatch('s1', 'w1', 'p1')).toBe(true);
    expect(store.recordDispatch('s1', 'w1', 'p1')).toBe(false);
    expect(store.recordDispatch('s1', 'w2', 'p2')).toBe(true);
    expect(r.lastWorkerId).toBe('w2');
    expect([...r.servedBy]).toEqual([['w1', 'p1'], ['w2', 'p2']]);
    expect(r.stats.calls).toBe(3);
    expect(r.lastAccessedAt).toBe(1_050);
  });

  it('recordDispatch on an unknown session throws unknown_session', () => {
    const { store } = setup();
    expect(thrown(() => store.recordDispatch('nope', 'w1', 'p')).code).toBe('unknown_session');
  });

  it('counts errors and host tool calls', () => {
    const { store } = setup();
    const r = store.create('s1');
    store.recordError('s1');
    store.recordHostToolCall('s1');
    store.recordHostToolCall('s1');
    expect(r.stats).toStrictEqual({ calls: 0, errors: 1, hostToolCalls: 2 });
  });

  it('forgets a gone worker in every session it served', () => {
    const { store } = setup();
    store.create('a');
    store.create('b');
    store.create('c');
    store.recordDispatch('a', 'w1', 'p');
    store.recordDispatch('b', 'w1', 'p');
    store.recordDispatch('b', 'w2', 'p');
    expect(store.forgetWorker('w1')).toEqual(['a', 'b']);
    expect([...store.require('b').servedBy.keys()]).toEqual(['w2']);
    expect(store.recordDispatch('a', 'w1', 'p')).toBe(true); // served afresh: needs a restore
  });

  it('keeps store-wide counters across ended sessions', () => {
    const { store, clock } = setup();
    store.create('a', { ttlMs: 10 });
    store.create('b');
    store.create('c');
    store.recordDispatch('a', 'w', 'p');
    store.recordDispatch('b', 'w', 'p');
    store.delete('b');
    clock.t += 11;
    store.cleanupExpired();
    expect(store.stats()).toStrictEqual({ sessions: 1, created: 3, expired: 1, deleted: 1, totalCalls: 2 });
  });

  it('sessionInfo gives a JSON-safe snapshot without touching', () => {
    const { store, clock } = setup();
    store.create('s1', { metadata: { user: 'u' } });
    store.recordDispatch('s1', 'w1', 'p1');
    store.setState('s1', 'k', 1);
    store.putProgram('s1', 'prog', { code: 'x' });
    clock.t = 1_030;
    const info = store.sessionInfo('s1');
    expect(info).toStrictEqual({
      id: 's1',
      createdAt: 1_000,
      lastAccessedAt: 1_000,
      ttlMs: 100,
      lastWorkerId: 'w1',
      metadata: { user: 'u' },
      programs: ['prog'],
      stateKeys: ['k'],
      stats: { calls: 1, errors: 0, hostToolCalls: 0 },
      workers: [{ workerId: 'w1', pool: 'p1' }],
    });
    expect(JSON.parse(JSON.stringify(info))).toStrictEqual(info);
    expect(store.require('s1').lastAccessedAt).toBe(1_030); // require touched; sessionInfo did not
    expect(thrown(() => store.sessionInfo('nope')).code).toBe('unknown_session');
  });
});

describe('SessionStore state, programs and metadata', () => {
  const withSession = () => {
    const env = setup();
    env.store.create('s1');
    env.clock.t = 1_020; // later accesses show up as touches
    return env;
  };
  const touched = (r: SessionRecord) => r.lastAccessedAt === 1_020;

  it('sets, reads, deletes and clears state', () => {
    const { store } = withSession();
    store.setState('s1', 'a', 1);
    store.setState('s1', 'b', { nested: true });
    expect(store.getState('s1').get('a')).toBe(1);
    expect(store.stateSnapshot('s1')).toStrictEqual({ a: 1, b: { nested: true } });
    expect(store.deleteState('s1', 'a')).toBe(true);
    expect(store.deleteState('s1', 'a')).toBe(false);
    store.clearState('s1');
    expect(store.stateSnapshot('s1')).toStrictEqual({});
  });

  it('snapshots are copies', () => {
    const { store } = withSession();
    store.setState('s1', 'a', 1);
    const snap = store.stateSnapshot('s1');
    snap.a = 2;
    expect(store.getState('s1').get('a')).toBe(1);
  });

  it('stores programs', () => {
    const { store } = withSession();
    store.putProgram('s1', 'p', { sig: 'q -> a' });
    expect(store.getProgram('s1', 'p')).toStrictEqual({ sig: 'q -> a' });
    expect(store.getProgram('s1', 'missing')).toBeUndefined();
    expect(store.deleteProgram('s1', 'p')).toBe(true);
    expect(store.deleteProgram('s1', 'p')).toBe(false);
    expect(thrown(() => store.putProgram('s1', '', 1)).details.field).toBe('programId');
  });

  it('stores metadata', () => {
    const { store } = withSession();
    store.putMetadata('s1', 'user', 'u');
    expect(store.getMetadata('s1', 'user')).toBe('u');
    expect(store.getMetadata('s1', 'missing')).toBeUndefined();
    const all = store.getMetadata('s1') as Record<string, unknown>;
    expect(all).toStrictEqual({ user: 'u' });
    all.user = 'changed';
    expect(store.getMetadata('s1', 'user')).toBe('u');
  });

  it.each([
    ['getState', (s: SessionStore) => s.getState('s1')],
    ['setState', (s: SessionStore) => s.setState('s1', 'k', 1)],
    ['deleteState', (s: SessionStore) => s.deleteState('s1', 'k')],
    ['clearState', (s: SessionStore) => s.clearState('s1')],
    ['stateSnapshot', (s: SessionStore) => s.stateSnapshot('s1')],
    ['putProgram', (s: SessionStore) => s.putProgram('s1', 'p', 1)],
    ['getProgram', (s: SessionStore) => s.getProgram('s1', 'p')],
    ['deleteProgram', (s: SessionStore) => s.deleteProgram('s1', 'p')],
    ['putMetadata', (s: SessionStore) => s.putMetadata('s1', 'k', 1)],
    ['getMetadata', (s: SessionStore) => s.getMetadata('s1', 'k')],
  ])('%s touches the session and needs it to exist', (_name, op) => {
    const { store } = withSession();
    op(store);
    expect(touched(store.get('s1', { touch: false })!)).toBe(true);
    store.delete('s1');
    const error = thrown(() => op(store));
    expect(error.code).toBe('unknown_session');
    expect(error.details).toStrictEqual({ sessionId: 's1' });
  });
});

describe('SessionStore periodic sweep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sweeps expired sessions every cleanupIntervalMs once started, and stops', () => {
    vi.useFakeTimers({ now: 0 });
    const store = new SessionStore({ defaultTtlMs: 100, cleanupIntervalMs: 50 });
    const ended: string[] = [];
    store.on('session:ended', (r, reason) => ended.push(`${r.id}:${reason}`));
    store.create('s1');
    store.start();
    store.start(); // idempotent: still one timer
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(ended).toEqual([]);
    vi.advanceTimersByTime(50); // t = 150 > 100 since last access
    expect(ended).toEqual(['s1:expired']);
    store.stop();
    expect(vi.getTimerCount()).toBe(0);
    store.stop(); // harmless twice
  });

  it('does not keep the process alive', () => {
    const store = new SessionStore({ defaultTtlMs: 100, cleanupIntervalMs: 10_000 });
    const spy = vi.spyOn(globalThis, 'setInterval');
    store.start();
    const handle = spy.mock.results[0]?.value as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    store.stop();
    spy.mockRestore();
  });
});
