/**
 * The crash barrier (the original's `Snakepit.CrashBarrier`): classifies worker deaths, counts
 * crashes per worker slot in a rolling window, taints the slot of a crashed worker for a while,
 * and decides which calls that hit a crash may run again on another worker.
 */
import { readFileSync } from 'node:fs';
import { CRASH_BARRIER_CONFIG_DEFAULTS } from '../config/schema.js';
import { CrashWindow } from '../resilience/crash-window.js';
import { isSnakepitError, WorkerError } from '../errors.js';
import type { WorkerExit } from '../worker/worker.js';

/** Crash barrier settings (config `crashBarrier`). */
export interface CrashBarrierOptions {
  /** Turns on slot removal, taints and retries. Classification happens regardless. @default false */
  enabled: boolean;
  /** Crashes of one slot allowed within `windowSeconds`; one more removes the slot. @default 5 */
  maxRestarts: number;
  /** @default 60 */
  windowSeconds: number;
  /** `'idempotent'`: calls marked `idempotent` that hit a crash run again elsewhere. @default 'idempotent' */
  retry: 'idempotent' | 'never';
  /** Retries of one call. @default 1 */
  maxRetries: number;
  /** How long a crashed slot's worker is avoided, in ms. @default 5000 */
  taintMs: number;
}

/** The barrier off, with the original's defaults for the rest (the config schema's). */
export const CRASH_BARRIER_DEFAULTS: Readonly<CrashBarrierOptions> = Object.freeze({ ...CRASH_BARRIER_CONFIG_DEFAULTS });

/**
 * Why a worker died:
 * - `signal`: a signal the host did not send (SIGSEGV, SIGABRT, a SIGKILL from someone else...)
 * - `oom`: SIGKILL (or exit code 137) the host did not send, taken for the kernel's OOM killer (see `classifyCrash`)
 * - `exit_code`: the process exited by itself while it should have kept serving
 * - `heartbeat`: the host killed it because it stopped answering heartbeats
 * - `killed_by_host`: the host killed it for another reason (a call that ignored its cancellation)
 * - `disconnected`: an attached worker's connection broke (there is no process to ask)
 */
export type CrashReason = 'signal' | 'exit_code' | 'oom' | 'heartbeat' | 'killed_by_host' | 'disconnected';

/** A worker death, classified. */
export interface CrashInfo {
  reason: CrashReason;
  signal: string | null;
  exitCode: number | null;
  /** The host's own reason when it killed the worker. */
  hostReason?: string;
}

/** Where a worker's cgroup counts OOM kills, and the count when the worker started. */
export interface OomWatch {
  file: string;
  before: number;
}

/**
 * Classifies an unexpected exit. A SIGKILL the host did not send is most often the OOM killer,
 * but anyone may send one: when the worker's cgroup counter of OOM kills can be read (cgroup v2
 * `memory.events`, v1 `memory.oom_control`) it decides; when it cannot, the death is called
 * `oom` as the original does for exit status 137. The classification is a diagnosis, not proof.
 * @param oomKilled whether the cgroup's OOM-kill counter rose while the worker lived; undefined when unknown
 */
export function classifyCrash(exit: WorkerExit, attached: boolean, oomKilled?: boolean): CrashInfo {
  const base = { signal: exit.signal, exitCode: exit.exitCode, ...(exit.reason === undefined ? {} : { hostReason: exit.reason }) };
  if (exit.reason !== undefined) return { reason: /heartbeat|hung/i.test(exit.reason) ? 'heartbeat' : 'killed_by_host', ...base };
  if (attached) return { reason: 'disconnected', ...base };
  if (exit.signal === 'SIGKILL' || exit.exitCode === 137) {
    if (oomKilled ?? true) return { reason: 'oom', ...base };
    return { reason: exit.signal ? 'signal' : 'exit_code', ...base };
  }
  return { reason: exit.signal ? 'signal' : 'exit_code', ...base };
}

/** One line on a worker death, for logs and `health().lastError`. */
export function describeExit(workerId: string, crash: CrashInfo): string {
  const host = crash.hostReason === undefined ? '' : `, ${crash.hostReason}`;
  return `Worker ${workerId} exited (${crash.reason}: code ${String(crash.exitCode)}, signal ${String(crash.signal)}${host})`;
}

/** The OOM-kill counter file of `pid`'s memory cgroup and its value now; undefined where unreadable. */
export function watchOom(pid: number): OomWatch | undefined {
  let lines: string[];
  try {
    lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  for (const line of lines) {
    const [, controllers, ...rest] = line.split(':');
    const cgroup = rest.join(':');
    if (controllers === undefined || !cgroup) continue;
    const file =
      controllers === '' ? `/sys/fs/cgroup${cgroup}/memory.events` : controllers.split(',').includes('memory') ? `/sys/fs/cgroup/memory${cgroup}/memory.oom_control` : undefined;
    const before = file === undefined ? undefined : readOomKills(file);
    if (file !== undefined && before !== undefined) return { file, before };
  }
  return undefined;
}

/** True when the watched cgroup saw an OOM kill since the watch began; undefined when unreadable. */
export function oomKilledSince(watch: OomWatch | undefined): boolean | undefined {
  if (!watch) return undefined;
  const now = readOomKills(watch.file);
  return now === undefined ? undefined : now > watch.before;
}

function readOomKills(file: string): number | undefined {
  try {
    const match = /^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Crash times per slot in a rolling window: too many and the slot is removed for good. */
export class RestartWindow {
  readonly #window: CrashWindow<number>;

  constructor(
    readonly maxRestarts: number,
    readonly windowMs: number,
  ) {
    this.#window = new CrashWindow(windowMs);
  }

  /** Records a crash of `slot`; true when it crashed more than `maxRestarts` times within the window. */
  record(slot: number, now: number): boolean {
    return this.#window.record(slot, now) > this.maxRestarts;
  }

  /** Crashes of `slot` within the window ending at `now`. */
  count(slot: number, now: number): number {
    return this.#window.count(slot, now);
  }
}

/** Slots avoided until a time. */
export class Taints {
  readonly #until = new Map<number, number>();

  taint(slot: number, until: number): void {
    this.#until.set(slot, Math.max(until, this.#until.get(slot) ?? 0));
  }

  isTainted(slot: number | undefined, now: number): boolean {
    if (slot === undefined) return false;
    const until = this.#until.get(slot);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#until.delete(slot);
    return false;
  }
}

/** What the retry decision needs to know about a call. */
export interface RetryCandidate {
  idempotent: boolean;
  /** Retries already made. */
  retries: number;
  /** Chunks already delivered: a stream that delivered any cannot be replayed unseen. */
  chunks: number;
  deadlineAt: number;
}

const RETRYABLE_CODES: ReadonlySet<string> = new Set(['worker_crashed', 'worker_hung']);

/**
 * Whether a failed call runs again on another worker: the barrier is on with `retry:
 * 'idempotent'`, the call is marked idempotent, its worker crashed or hung (nothing else: a
 * Python exception or a timeout is an answer), retries are left, it streamed nothing yet, and its
 * deadline has not passed (the retry keeps the original deadline).
 */
export function retryAllowed(options: CrashBarrierOptions, call: RetryCandidate, error: unknown, now: number): boolean {
  return (
    options.enabled &&
    options.retry === 'idempotent' &&
    call.idempotent &&
    call.retries < options.maxRetries &&
    call.chunks === 0 &&
    now < call.deadlineAt &&
    isSnakepitError(error) &&
    RETRYABLE_CODES.has(error.code)
  );
}

/** The call's crash error with the classification in `details.crash`. */
export function withCrashInfo(error: Error, crash: CrashInfo | undefined): Error {
  if (!crash || !(error instanceof WorkerError) || !RETRYABLE_CODES.has(error.code) || 'crash' in error.details) return error;
  const annotated = new WorkerError(error.message, error.code, { ...error.details, crash }, error.cause);
  annotated.stack = error.stack;
  return annotated;
}

/** The workers a call may use: a tainted slot's worker only while no untainted worker is live. */
export function avoidTainted<W extends { id: string; state: string }>(workers: readonly W[], tainted: (w: W) => boolean, keepId?: string): readonly W[] {
  const clean = workers.filter((w) => w.id === keepId || !tainted(w));
  return clean.length < workers.length && clean.some(isLive) ? clean : workers;
}

/** Serving or able to serve: not starting, draining or gone. */
export function isLive(w: { state: string }): boolean {
  return w.state === 'ready' || w.state === 'busy';
}

/** A pool's crash barrier state: classifications of dead workers, crash windows and taints per slot. */
export class CrashBarrier {
  readonly #restarts: RestartWindow;
  readonly #taints = new Taints();
  readonly #oom = new WeakMap<object, OomWatch>();
  readonly #crashes = new WeakMap<object, CrashInfo>();

  constructor(readonly options: CrashBarrierOptions = CRASH_BARRIER_DEFAULTS) {
    this.#restarts = new RestartWindow(options.maxRestarts, options.windowSeconds * 1_000);
  }

  /** Notes a started worker's OOM-kill baseline (spawned workers only). */
  track(worker: { readonly attached: boolean; readonly pid: number | undefined }): void {
    if (worker.attached || worker.pid === undefined) return;
    const watch = watchOom(worker.pid);
    if (watch) this.#oom.set(worker, watch);
  }

  /** Classifies `worker`'s unexpected exit and keeps the result for its calls' errors. */
  classify(worker: { readonly attached: boolean }, exit: WorkerExit): CrashInfo {
    const crash = classifyCrash(exit, worker.attached, oomKilledSince(this.#oom.get(worker)));
    this.#crashes.set(worker, crash);
    return crash;
  }

  /** How `worker` died, once it crashed. */
  crashOf(worker: object): CrashInfo | undefined {
    return this.#crashes.get(worker);
  }

  /**
   * A crash of the worker in `slot`. With the barrier on: `'remove'` when the slot crashed more
   * than `maxRestarts` times within `windowSeconds`, else `'restart'` with the slot tainted for
   * `taintMs`. With it off, always `'restart'`.
   */
  onCrash(slot: number, now: number): 'restart' | 'remove' {
    if (!this.options.enabled) return 'restart';
    if (this.#restarts.record(slot, now)) return 'remove';
    if (this.options.taintMs > 0) this.#taints.taint(slot, now + this.options.taintMs);
    return 'restart';
  }

  isTainted(slot: number | undefined, now = Date.now()): boolean {
    return this.options.enabled && this.#taints.isTainted(slot, now);
  }

  retryAllowed(call: RetryCandidate, error: unknown): boolean {
    return retryAllowed(this.options, call, error, Date.now());
  }
}
