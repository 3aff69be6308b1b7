/**
 * Session events: created and ended (from the store's own events), each call's access and the
 * worker affinity it lands on, a worker's death breaking the affinity of its sessions, and stored
 * programs. The helpers are called where those things happen; each is a `hasSubscribers` check
 * when nobody listens.
 */
import type { Pool } from '../pool/pool.js';
import type { SessionRecord, SessionStore } from '../session/session-store.js';
import { emit, enabled } from './bus.js';
import { trackSessions, untrackSessions } from './metrics.js';

/** Forwards a session store's events: `snakepit.session.created` and `snakepit.session.ended`. */
export function forwardSessionEvents(store: SessionStore): void {
  trackSessions(store);
  store.on('session:created', (record) => emit('snakepit.session.created', { ttlMs: record.ttlMs }, { sessionId: record.id }));
  store.on('session:ended', (record, reason) => {
    if (!enabled('snakepit.session.ended')) return;
    emit('snakepit.session.ended', { lifetimeMs: Date.now() - record.createdAt, calls: record.stats.calls }, { sessionId: record.id, reason });
  });
}

/** Stops counting a stopped instance's store in `snakepit_sessions`. */
export function stopSessionEvents(store: SessionStore): void {
  untrackSessions(store);
}

/**
 * A call of the session goes to `worker` (called before the store records it): `accessed`, and
 * `affinity.assigned` when the session had no worker yet or had another.
 */
export function sessionDispatched(record: SessionRecord, worker: { readonly id: string; readonly pool: string }): void {
  const previousWorkerId = record.lastWorkerId;
  if (previousWorkerId !== worker.id && enabled('snakepit.session.affinity.assigned')) {
    emit('snakepit.session.affinity.assigned', {}, { sessionId: record.id, pool: worker.pool, workerId: worker.id, previousWorkerId });
  }
  if (enabled('snakepit.session.accessed')) emit('snakepit.session.accessed', { calls: record.stats.calls + 1 }, { sessionId: record.id, pool: worker.pool, workerId: worker.id });
}

/**
 * `snakepit.session.affinity.broken` for each session whose latest worker in `pool` died (a crash
 * or a kill: a worker stopped on purpose, or recycled, hands its sessions over instead).
 */
export function forwardSessionAffinity(store: SessionStore, pool: Pool): void {
  pool.on('worker:exit', (info, exit) => {
    if ((exit.expected && exit.reason === undefined) || !enabled('snakepit.session.affinity.broken')) return;
    for (const id of store.list()) {
      const record = store.get(id, { touch: false });
      if (record?.lastWorkerId !== info.id) continue;
      emit('snakepit.session.affinity.broken', {}, { sessionId: id, pool: pool.name, workerId: info.id, reason: exit.reason ?? 'worker_exited' });
    }
  });
}

/** A session program was stored, looked up or deleted (`found`/`existed`: whether it was there). */
export function programEvent(action: 'stored', sessionId: string, programId: string): void;
export function programEvent(action: 'retrieved' | 'deleted', sessionId: string, programId: string, present: boolean): void;
export function programEvent(action: 'stored' | 'retrieved' | 'deleted', sessionId: string, programId: string, present = true): void {
  if (action === 'stored') {
    if (enabled('snakepit.session.program.stored')) emit('snakepit.session.program.stored', {}, { sessionId, programId });
  } else if (action === 'retrieved') {
    if (enabled('snakepit.session.program.retrieved')) emit('snakepit.session.program.retrieved', {}, { sessionId, programId, found: present });
  } else if (enabled('snakepit.session.program.deleted')) emit('snakepit.session.program.deleted', {}, { sessionId, programId, existed: present });
}
