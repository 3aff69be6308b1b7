/**
 * Sessions held by the host, as the original's `Snakepit.Bridge.SessionStore`: each has a TTL
 * from its last access, metadata, programs, state (restored onto a new worker when its worker
 * goes) and the workers that served it (told to clean up when it ends).
 */
import { EventEmitter } from 'node:events';
import { describeValue } from '../config/format-issues.js';
import { ValidationError } from '../errors.js';
import { programEvent } from '../telemetry/session-events.js';

/** Counters of one session. */
export interface SessionStats {
  /** Calls dispatched to a worker in this session. */
  calls: number;
  /** Of those, calls that failed. */
  errors: number;
  /** Host tool calls made from Python on the session's behalf. */
  hostToolCalls: number;
}

/** One session. Mutable fields are the store's to change; use its methods. */
export interface SessionRecord {
  readonly id: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms of the last access; the TTL counts from here. */
  lastAccessedAt: number;
  ttlMs: number;
  /** The worker that ran the session's latest call. */
  lastWorkerId: string | undefined;
  metadata: Record<string, unknown>;
  /** Program id -> program data (the original's stored programs). */
  readonly programs: Map<string, unknown>;
  /** Session state Python reads and writes through `session_context.state`. */
  readonly state: Map<string, unknown>;
  readonly stats: SessionStats;
  /** workerId -> pool name of every worker that has served this session (for cleanup and restore). */
  readonly servedBy: Map<string, string>;
}

/** Why a session ended. */
export type SessionEndReason = 'deleted' | 'expired';

/** Events of a `SessionStore`. */
export interface SessionStoreEvents {
  'session:created': [SessionRecord];
  'session:ended': [SessionRecord, SessionEndReason];
}

/** Options of a `SessionStore`. */
export interface SessionStoreOptions {
  /** TTL of a session created without its own, in ms from its last access. */
  defaultTtlMs: number;
  /** Time between sweeps of expired sessions once `start()`ed, in ms. */
  cleanupIntervalMs: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

/** Options of `create` and `ensure`. */
export interface CreateSessionOptions {
  /** @default the store's `defaultTtlMs` */
  ttlMs?: number;
  /** Copied (shallowly) into the session. @default {} */
  metadata?: Record<string, unknown>;
}

/** JSON-safe summary of one session (`sessionInfo`). */
export interface SessionInfo {
  id: string;
  createdAt: number;
  lastAccessedAt: number;
  ttlMs: number;
  lastWorkerId: string | undefined;
  metadata: Record<string, unknown>;
  programs: string[];
  stateKeys: string[];
  stats: SessionStats;
  workers: { workerId: string; pool: string }[];
}

/** Counters of the whole store (`stats()`). */
export interface SessionStoreStats {
  /** Live sessions now. */
  sessions: number;
  /** Ever created, ended ones included. */
  created: number;
  expired: number;
  deleted: number;
  /** Calls dispatched in any session, ended ones included. */
  totalCalls: number;
}

/** The host's sessions. Emits `session:created` and `session:ended` (record, reason). */
export class SessionStore extends EventEmitter<SessionStoreEvents> {
  readonly defaultTtlMs: number;
  readonly cleanupIntervalMs: number;
  readonly #now: () => number;
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #counts = { created: 0, expired: 0, deleted: 0, totalCalls: 0 };
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SessionStoreOptions) {
    super();
    this.defaultTtlMs = positiveInt('defaultTtlMs', options.defaultTtlMs);
    this.cleanupIntervalMs = positiveInt('cleanupIntervalMs', options.cleanupIntervalMs);
    this.#now = options.now ?? Date.now;
  }

  /** Creates a session. An id already in use: `ValidationError` code `invalid_argument`, details `{ sessionId }`. */
  create(id: string, options: CreateSessionOptions = {}): SessionRecord {
    if (typeof id !== 'string' || id === '') invalid('id', 'a non-empty string', id);
    const ttlMs = positiveInt('ttlMs', options.ttlMs ?? this.defaultTtlMs);
    const metadata = options.metadata ?? {};
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) invalid('metadata', 'an object', metadata);
    // An expired session of that id ends here, so its id is free again.
    if (this.get(id, { touch: false })) {
      throw new ValidationError(`Session ${id} already exists`, 'invalid_argument', { sessionId: id });
    }
    const now = this.#now();
    const record: SessionRecord = {
      id,
      createdAt: now,
      lastAccessedAt: now,
      ttlMs,
      lastWorkerId: undefined,
      metadata: { ...metadata },
      programs: new Map(),
      state: new Map(),
      stats: { calls: 0, errors: 0, hostToolCalls: 0 },
      servedBy: new Map(),
    };
    this.#sessions.set(id, record);
    this.#counts.created++;
    this.emit('session:created', record);
    return record;
  }

  /** The session (touched), or a new one made with `options` (ignored for an existing one). */
  ensure(id: string, options: CreateSessionOptions = {}): SessionRecord {
    return this.get(id) ?? this.create(id, options);
  }

  /**
   * The session, touched (last access = now) unless `{ touch: false }`; undefined when missing or
   * expired (an expired one found here ends as 'expired' right away).
   */
  get(id: string, options: { touch?: boolean } = {}): SessionRecord | undefined {
    const record = this.#sessions.get(id);
    if (!record) return undefined;
    const now = this.#now();
    if (this.isExpired(record, now)) {
      this.#end(record, 'expired');
      return undefined;
    }
    if (options.touch !== false) record.lastAccessedAt = now;
    return record;
  }

  /** The session, touched; missing or expired: `ValidationError` code `unknown_session`, details `{ sessionId }`. */
  require(id: string): SessionRecord {
    const record = this.get(id);
    if (!record) throw new ValidationError(`Unknown session ${JSON.stringify(id)}`, 'unknown_session', { sessionId: id });
    return record;
  }

  /** Whether the session exists and has not expired; does not touch it. */
  has(id: string): boolean {
    return this.get(id, { touch: false }) !== undefined;
  }

  /** Sets the last access to now; false when the session is missing or expired. */
  touch(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** Ends the session ('deleted'); false when it did not exist. */
  delete(id: string): boolean {
    const record = this.#sessions.get(id);
    if (!record) return false;
    this.#end(record, 'deleted');
    return true;
  }

  /** Ids of the live (unexpired) sessions. */
  list(): string[] {
    const now = this.#now();
    return [...this.#sessions.values()].filter((r) => !this.isExpired(r, now)).map((r) => r.id);
  }

  /** Number of live (unexpired) sessions. */
  get size(): number {
    return this.list().length;
  }

  /** Whether more than `ttlMs` has passed since the last access. */
  isExpired(record: SessionRecord, now: number = this.#now()): boolean {
    return now - record.lastAccessedAt > record.ttlMs;
  }

  /** Ends every expired session ('expired'); returns how many. */
  cleanupExpired(): number {
    const now = this.#now();
    let count = 0;
    for (const record of [...this.#sessions.values()]) {
      if (!this.isExpired(record, now)) continue;
      this.#end(record, 'expired');
      count++;
    }
    return count;
  }

  /**
   * Records that `workerId` (of `pool`) runs a call of the session: sets `lastWorkerId`, adds it
   * to `servedBy`, counts the call and touches the session. Returns true when this worker had not
   * served the session before (its state may need restoring there).
   */
  recordDispatch(id: string, workerId: string, pool: string): boolean {
    const record = this.require(id);
    const isNew = !record.servedBy.has(workerId);
    record.servedBy.set(workerId, pool);
    record.lastWorkerId = workerId;
    record.stats.calls++;
    this.#counts.totalCalls++;
    return isNew;
  }

  /** Counts a failed call of the session; touches it. */
  recordError(id: string): void {
    this.require(id).stats.errors++;
  }

  /** Counts a host tool call made on the session's behalf; touches it. */
  recordHostToolCall(id: string): void {
    this.require(id).stats.hostToolCalls++;
  }

  /** Removes a gone worker from every session's `servedBy`; returns the ids of the sessions it served. */
  forgetWorker(workerId: string): string[] {
    const served: string[] = [];
    for (const record of this.#sessions.values()) if (record.servedBy.delete(workerId)) served.push(record.id);
    return served;
  }

  // ---- state, programs, metadata: each requires the session (unknown_session) and touches it ----

  /** The session's state, read-only; change it with `setState` and friends. */
  getState(id: string): ReadonlyMap<string, unknown> {
    return this.require(id).state;
  }

  setState(id: string, key: string, value: unknown): void {
    if (typeof key !== 'string') invalid('key', 'a string', key);
    this.require(id).state.set(key, value);
  }

  /** Returns whether the key existed. */
  deleteState(id: string, key: string): boolean {
    return this.require(id).state.delete(key);
  }

  clearState(id: string): void {
    this.require(id).state.clear();
  }

  /** A plain-object copy of the state (what Python's `get_all` and a restore receive). */
  stateSnapshot(id: string): Record<string, unknown> {
    return Object.fromEntries(this.require(id).state);
  }

  putProgram(id: string, programId: string, program: unknown): void {
    if (typeof programId !== 'string' || programId === '') invalid('programId', 'a non-empty string', programId);
    this.require(id).programs.set(programId, program);
    programEvent('stored', id, programId);
  }

  /** The program, or undefined when the session has none of that id. */
  getProgram(id: string, programId: string): unknown {
    const programs = this.require(id).programs;
    programEvent('retrieved', id, programId, programs.has(programId));
    return programs.get(programId);
  }

  /** Returns whether the program existed. */
  deleteProgram(id: string, programId: string): boolean {
    const existed = this.require(id).programs.delete(programId);
    programEvent('deleted', id, programId, existed);
    return existed;
  }

  putMetadata(id: string, key: string, value: unknown): void {
    if (typeof key !== 'string') invalid('key', 'a string', key);
    this.require(id).metadata[key] = value;
  }

  /** One metadata value, or (no key) a shallow copy of all of it. */
  getMetadata(id: string, key?: string): unknown {
    const { metadata } = this.require(id);
    return key === undefined ? { ...metadata } : metadata[key];
  }

  /** A JSON-safe summary of the session (user values in metadata aside); does not touch it. */
  sessionInfo(id: string): SessionInfo {
    const r = this.get(id, { touch: false });
    if (!r) throw new ValidationError(`Unknown session ${JSON.stringify(id)}`, 'unknown_session', { sessionId: id });
    return {
      id: r.id,
      createdAt: r.createdAt,
      lastAccessedAt: r.lastAccessedAt,
      ttlMs: r.ttlMs,
      lastWorkerId: r.lastWorkerId,
      metadata: { ...r.metadata },
      programs: [...r.programs.keys()],
      stateKeys: [...r.state.keys()],
      stats: { ...r.stats },
      workers: [...r.servedBy].map(([workerId, pool]) => ({ workerId, pool })),
    };
  }

  /** Counters of the store. */
  stats(): SessionStoreStats {
    return { sessions: this.size, ...this.#counts };
  }

  /** Starts the periodic sweep of expired sessions; idempotent. The timer does not hold the process open. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.cleanupExpired(), this.cleanupIntervalMs);
    this.#timer.unref();
  }

  /** Stops the sweep; sessions stay. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #end(record: SessionRecord, reason: SessionEndReason): void {
    // Gone before listeners run: a listener that looks the session up sees it ended.
    this.#sessions.delete(record.id);
    this.#counts[reason]++;
    this.emit('session:ended', record, reason);
  }
}

function positiveInt(field: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) invalid(field, 'an integer >= 1', value);
  return value as number;
}

function invalid(field: string, expected: string, value: unknown): never {
  const received = describeValue(value);
  throw new ValidationError(`Expected session \`${field}\` to be ${expected}, got ${received}`, 'invalid_argument', {
    field,
    expected,
    received,
  });
}
