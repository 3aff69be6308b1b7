/**
 * Worker recycling (the original's `Snakepit.Worker.LifecycleManager`): replaces workers that
 * lived too long, served too many calls or hold too much memory, without failing a call.
 */
import { readFile } from 'node:fs/promises';
import type { ResolvedPoolConfig, WorkerTtl } from '../config/index.js';
import { ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Worker } from '../worker/worker.js';
import { isLive } from './crash-barrier.js';
import { unknownWorkerError } from './worker-lookup.js';

/** Why a worker was recycled. */
export type RecycleReason = 'ttl' | 'max_requests' | 'memory' | 'manual';

/**
 * What a recycle did: `workerId` was replaced by `replacementId` for `reason`. A recycle asked
 * for while the worker was already being recycled reports that recycle (its reason, not `manual`).
 */
export interface RecycleOutcome {
  workerId: string;
  replacementId: string;
  reason: RecycleReason;
}

/** Recycles per reason. */
export type RecycleCounts = Record<RecycleReason, number>;

/** What a pool recycles on (from config). */
export interface LifecycleOptions {
  /** Worker lifetime before recycling, in ms. @default Infinity */
  ttlMs: number;
  /** Completed calls before recycling. @default Infinity */
  maxRequests: number;
  /** Memory (MiB) above which a spawned or forked worker is recycled (`readWorkerMemoryMb`). @default undefined (no limit) */
  memoryThresholdMb: number | undefined;
  /** Time between TTL, request-count and memory checks, in ms. @default 5000 */
  checkIntervalMs: number;
}

/** What the lifecycle manager needs from its pool. */
export interface RecycleHooks {
  /** The pool's workers. */
  workers(): readonly Worker[];
  /** Starts a worker in `old`'s slot; resolves once it is ready. */
  spawnReplacement(old: Worker): Promise<Worker>;
  /** Moves what is bound to `old` (sessions, calls queued for it) to `fresh`. */
  handOver(old: Worker, fresh: Worker): void;
  /** No replacement could start and `old` still lives: it takes calls again. */
  resume(old: Worker): void;
  /** No replacement could start and `old` died meanwhile: its slot needs an ordinary restart. */
  vacate(old: Worker): void;
  /** `old` is gone and `fresh` serves in its place; `memoryMb`: `old`'s RSS when the recycle began (undefined where unreadable). */
  recycled(old: Worker, reason: RecycleReason, fresh: Worker, memoryMb: number | undefined): void;
  gracefulShutdownTimeoutMs: number;
  logger: Logger;
}

/** A pool's recycling rules from its config. */
export function lifecycleOptions(config: Pick<ResolvedPoolConfig, 'workerTtl' | 'workerMaxRequests' | 'memoryThresholdMb' | 'lifecycleCheckIntervalMs'>): LifecycleOptions {
  return {
    ttlMs: ttlToMs(config.workerTtl),
    maxRequests: config.workerMaxRequests === 'infinity' ? Infinity : config.workerMaxRequests,
    memoryThresholdMb: config.memoryThresholdMb,
    checkIntervalMs: config.lifecycleCheckIntervalMs,
  };
}

/** `workerTtl` in ms (Infinity for `'infinity'`). */
export function ttlToMs(ttl: WorkerTtl): number {
  if (ttl === 'infinity') return Infinity;
  return ttl.value * { seconds: 1_000, minutes: 60_000, hours: 3_600_000 }[ttl.unit];
}

/** Resident set size of a process in MiB, from `/proc/<pid>/status`; undefined where unreadable (gone, not Linux). */
export async function readRssMb(pid: number): Promise<number | undefined> {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Memory a process does not share (`Private_Clean` + `Private_Dirty` of `/proc/<pid>/smaps_rollup`) in MiB; undefined where unreadable. */
export async function readPrivateMb(pid: number): Promise<number | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? Number.NaN);
    const total = kb('Private_Clean') + kb('Private_Dirty');
    return Number.isNaN(total) ? undefined : total / 1024;
  } catch {
    return undefined;
  }
}

/**
 * The memory `memoryThresholdMb` is checked against, in MiB: a spawned worker's resident set; a
 * forked worker's private memory, since the pages it still shares with the template (what
 * `preload()` loaded) are not its to free — a replacement would share them just the same — while
 * what it allocated or wrote to (copy-on-write) is.
 */
export function readWorkerMemoryMb(worker: Pick<Worker, 'pid' | 'startMode'>): Promise<number | undefined> {
  if (worker.pid === undefined) return Promise.resolve(undefined);
  return worker.startMode === 'fork' ? readPrivateMb(worker.pid) : readRssMb(worker.pid);
}

/** Why `worker` is due for recycling (memory aside, which needs a read), or undefined. */
export function dueReason(worker: Pick<Worker, 'startedAt' | 'requests'>, options: LifecycleOptions, now: number): RecycleReason | undefined {
  if (worker.requests >= options.maxRequests) return 'max_requests';
  if (now - worker.startedAt >= options.ttlMs) return 'ttl';
  return undefined;
}

/**
 * Watches a pool's workers and recycles them. A recycled worker stops taking calls at once
 * ('draining'), finishes those it has, and is stopped only after its replacement is ready: the
 * pool briefly has one worker more than its size, and no call fails because of recycling.
 * Automatic recycles run one at a time per pool, so recycling never takes away more than one
 * worker's capacity (workers started together reach their TTL together). Attached workers are
 * never recycled: the host cannot start a replacement for them.
 */
export class LifecycleManager {
  readonly counts: RecycleCounts = { ttl: 0, max_requests: 0, memory: 0, manual: 0 };
  readonly #options: LifecycleOptions;
  readonly #hooks: RecycleHooks;
  readonly #recycling = new Map<Worker, Promise<RecycleOutcome>>();
  #automatic = 0;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;
  #stopped = false;

  constructor(options: LifecycleOptions, hooks: RecycleHooks) {
    this.#options = options;
    this.#hooks = hooks;
  }

  /** True when any recycling rule is set. */
  get enabled(): boolean {
    const o = this.#options;
    return Number.isFinite(o.ttlMs) || Number.isFinite(o.maxRequests) || o.memoryThresholdMb !== undefined;
  }

  /** Recycles so far, all reasons. */
  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  start(): void {
    this.#stopped = false;
    if (!this.enabled || this.#timer) return;
    this.#timer = setInterval(() => void this.check(), this.#options.checkIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** True while `worker` is being replaced. */
  isRecycling(worker: Worker): boolean {
    return this.#recycling.has(worker);
  }

  /** A call on `worker` completed: recycle it now if it reached `maxRequests`. */
  afterCall(worker: Worker): void {
    if (!this.#stopped && worker.requests >= this.#options.maxRequests) this.#auto(worker, 'max_requests');
  }

  /** One round of checks: TTL, request count, then memory (one `/proc` read per spawned worker). */
  async check(): Promise<void> {
    if (this.#checking || this.#automatic > 0) return;
    this.#checking = true;
    try {
      const now = Date.now();
      const threshold = this.#options.memoryThresholdMb;
      for (const worker of this.#hooks.workers()) {
        if (this.#automatic > 0) return;
        if (!this.#eligible(worker)) continue;
        const due = dueReason(worker, this.#options, now);
        if (due) this.#auto(worker, due);
        else if (threshold !== undefined && worker.pid !== undefined) {
          const rss = await readWorkerMemoryMb(worker);
          if (rss !== undefined && rss > threshold && this.#eligible(worker)) {
            this.#hooks.logger.info(`Worker ${worker.id} uses ${rss.toFixed(0)} MiB (threshold ${threshold} MiB): recycling`, { workerId: worker.id });
            this.#auto(worker, 'memory');
          }
        }
      }
    } finally {
      this.#checking = false;
    }
  }

  /**
   * Replaces `worker`; resolves once its replacement is ready and it is gone. Rejects (and the
   * worker keeps serving) when no replacement could start. A worker already being recycled is
   * not recycled twice: the call waits for that recycle and settles with its outcome.
   */
  recycle(worker: Worker, reason: RecycleReason): Promise<RecycleOutcome> {
    return this.#begin(worker, reason);
  }

  #begin(worker: Worker, reason: RecycleReason, onReplaced?: () => void): Promise<RecycleOutcome> {
    let pending = this.#recycling.get(worker);
    if (!pending) {
      pending = this.#replace(worker, reason, onReplaced).finally(() => this.#recycling.delete(worker));
      this.#recycling.set(worker, pending);
    }
    return pending;
  }

  /** Manual recycle of the worker `workerId`; rejects with a `ValidationError` for unknown or attached workers. */
  recycleById(pool: string, workerId: string): Promise<RecycleOutcome> {
    const workers = this.#hooks.workers();
    const worker = workers.find((w) => w.id === workerId);
    if (worker && !worker.attached) return this.recycle(worker, 'manual');
    if (!worker) return Promise.reject(unknownWorkerError(pool, workerId, workers));
    const ids = workers.map((w) => w.id);
    return Promise.reject(new ValidationError(`Worker ${workerId} is attached: only spawned workers can be recycled`, 'invalid_argument', { pool, workerId, workers: ids }));
  }

  /** Resolves once no recycle is in progress (those that begin meanwhile included). */
  async settled(): Promise<void> {
    while (this.#recycling.size > 0) await Promise.allSettled([...this.#recycling.values()]);
  }

  #eligible(worker: Worker): boolean {
    return !worker.attached && isLive(worker) && !this.#recycling.has(worker);
  }

  #auto(worker: Worker, reason: RecycleReason): void {
    if (this.#automatic > 0 || !this.#eligible(worker)) return;
    this.#automatic++;
    // The next automatic recycle may begin once the replacement serves: the old worker's drain
    // and stop take no capacity away.
    let released = false;
    const release = () => {
      if (!released) this.#automatic--;
      released = true;
    };
    this.#begin(worker, reason, release)
      .catch((error: unknown) => {
        // A recycle cut short by the pool's stop is no failure worth a warning.
        if (this.#stopped) return;
        this.#hooks.logger.warn(`Recycling worker ${worker.id} (${reason}) failed; it keeps serving: ${(error as Error).message}`, { workerId: worker.id });
      })
      .finally(release);
  }

  async #replace(old: Worker, reason: RecycleReason, onReplaced?: () => void): Promise<RecycleOutcome> {
    old.drain();
    const memoryMb = old.attached ? undefined : await readWorkerMemoryMb(old);
    let fresh: Worker;
    try {
      fresh = await this.#hooks.spawnReplacement(old);
    } catch (error) {
      if (old.state === 'stopped') this.#hooks.vacate(old);
      else if (old.resume()) this.#hooks.resume(old);
      throw error;
    }
    this.#hooks.handOver(old, fresh);
    onReplaced?.();
    await whenDrained(old);
    await old.stop(this.#hooks.gracefulShutdownTimeoutMs);
    this.counts[reason]++;
    this.#hooks.recycled(old, reason, fresh, memoryMb);
    return { workerId: old.id, replacementId: fresh.id, reason };
  }
}

/** Resolves once `worker` has no call in flight (or is gone). */
export function whenDrained(worker: Worker): Promise<void> {
  if (worker.inflight === 0 || worker.state === 'stopped') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      worker.off('drained', done);
      worker.off('exit', done);
      resolve();
    };
    worker.on('drained', done);
    worker.on('exit', done);
  });
}
