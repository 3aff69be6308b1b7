/**
 * The crash barrier (the original's `Snakepit.CrashBarrier`): classifies worker deaths, counts
 * crashes per worker slot in a rolling window, taints the slot of a crashed worker for a while,
 * and decides which calls that hit a crash may run again on another worker.
 */
import { clockMs } from '../clock.js';
import { readFileSync } from 'node:fs';
import type { ResolvedPoolConfig } from '../config/index.js';
import type { CrashKind } from '../config/crash-barrier-schema.js';
import { CRASH_BARRIER_CONFIG_DEFAULTS } from '../config/schema.js';
import { CrashWindow } from '../resilience/crash-window.js';
import { isSnakepitError, WorkerError } from '../errors.js';
import type { WorkerExit } from '../worker/worker.js';

/**
 * Crash barrier settings: a pool's `crashBarrier` (the top level's, with the pool's own fields
 * over it). Fields and defaults are documented once, in src/config/crash-barrier-schema.ts.
 */
export type CrashBarrierOptions = ResolvedPoolConfig['crashBarrier'];

/** The barrier off, with the original's defaults for the rest (the config schema's). */
export const CRASH_BARRIER_DEFAULTS: CrashBarrierOptions = Object.freeze({ ...CRASH_BARRIER_CONFIG_DEFAULTS });

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

/**
 * The original's classification of a crash (what `markOn` names besides our reasons):
 * `gpu` when the worker's last stderr lines mention CUDA or a GPU (checked first: a CUDA fault
 * often ends in SIGABRT or SIGSEGV), `segfault` SIGSEGV or exit 139, `abort` SIGABRT or exit 134,
 * `oom` as the reason says, else `unknown`.
 */
export type CrashClassification = 'segfault' | 'abort' | 'oom' | 'gpu' | 'unknown';

/** A worker death, classified. */
export interface CrashInfo {
  reason: CrashReason;
  classification: CrashClassification;
  signal: string | null;
  exitCode: number | null;
  /** The host's own reason when it killed the worker. */
  hostReason?: string;
  /** `'cuda'` when the worker's last stderr lines mention CUDA (the original's `device`). */
  device?: 'cuda';
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
 * @param stderrTail the worker's last stderr lines (for the `gpu` classification)
 */
export function classifyCrash(exit: WorkerExit, attached: boolean, oomKilled?: boolean, stderrTail?: string): CrashInfo {
  const reason = crashReason(exit, attached, oomKilled);
  const gpu = gpuMention(stderrTail);
  return {
    reason,
    classification: classificationOf(reason, exit, gpu),
    signal: exit.signal,
    exitCode: exit.exitCode,
    ...(exit.reason === undefined ? {} : { hostReason: exit.reason }),
    ...(gpu === 'cuda' ? { device: gpu } : {}),
  };
}

function crashReason(exit: WorkerExit, attached: boolean, oomKilled: boolean | undefined): CrashReason {
  if (exit.reason !== undefined) return /heartbeat|hung/i.test(exit.reason) ? 'heartbeat' : 'killed_by_host';
  if (attached) return 'disconnected';
  if ((exit.signal === 'SIGKILL' || exit.exitCode === 137) && (oomKilled ?? true)) return 'oom';
  return exit.signal ? 'signal' : 'exit_code';
}

/** Stderr lines of a dying worker searched for a GPU failure: its last words, not its start-up chatter. */
const GPU_STDERR_LINES = 10;

/** What a worker's last stderr lines say about a GPU: `cuda`, `gpu`, or nothing. */
function gpuMention(stderrTail: string | undefined): 'cuda' | 'gpu' | undefined {
  if (!stderrTail) return undefined;
  const last = stderrTail.split('\n').slice(-GPU_STDERR_LINES).join('\n');
  if (/cuda/i.test(last)) return 'cuda';
  return /\bgpu\b/i.test(last) ? 'gpu' : undefined;
}

function classificationOf(reason: CrashReason, exit: WorkerExit, gpu: 'cuda' | 'gpu' | undefined): CrashClassification {
  if (gpu) return 'gpu';
  if (exit.signal === 'SIGSEGV' || exit.exitCode === 139) return 'segfault';
  if (exit.signal === 'SIGABRT' || exit.exitCode === 134) return 'abort';
  return reason === 'oom' ? 'oom' : 'unknown';
}

/** True when `markOn` names the crash's classification or its reason: such a crash taints its slot. */
export function marks(markOn: readonly CrashKind[], crash: Pick<CrashInfo, 'reason' | 'classification'>): boolean {
  return markOn.some((kind) => kind === crash.classification || kind === crash.reason);
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
  /** When its whole time is up (the clock of `now` below). */
  deadlineAt: number;
  /** The worker the caller chose (`workerId`): such a call runs there or nowhere. */
  workerId?: string | undefined;
}

const RETRYABLE_CODES: ReadonlySet<string> = new Set(['worker_crashed', 'worker_hung']);

/** The wait before retry number `attempt` (1 for the first): `initialMs`, then `multiplier` times longer each time, at most `maxMs`. */
export function retryBackoffMs(backoff: CrashBarrierOptions['retryBackoff'], attempt: number): number {
  return Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** Math.max(0, attempt - 1));
}

/**
 * The wait before a failed call runs again on another worker, or undefined when it does not: the
 * barrier is on, `retry` is `'always'` (or `'idempotent'` and the call is marked idempotent), its
 * worker crashed or hung (nothing else: a Python exception or a timeout is an answer), retries are
 * left, it streamed nothing yet, the caller did not pin it to that worker, and its deadline (the
 * retry keeps the original one) is still ahead after the wait.
 */
export function retryDelay(options: CrashBarrierOptions, call: RetryCandidate, error: unknown, now: number): number | undefined {
  const allowed =
    options.enabled &&
    (options.retry === 'always' || (options.retry === 'idempotent' && call.idempotent)) &&
    call.retries < options.maxRetries &&
    call.chunks === 0 &&
    call.workerId === undefined &&
    isSnakepitError(error) &&
    RETRYABLE_CODES.has(error.code);
  if (!allowed) return undefined;
  const delayMs = retryBackoffMs(options.retryBackoff, call.retries + 1);
  return now + delayMs < call.deadlineAt ? delayMs : undefined;
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

  /** Classifies `worker`'s unexpected exit (its last stderr lines, if any, tell a GPU failure) and keeps the result for its calls' errors. */
  classify(worker: { readonly attached: boolean; readonly recentStderr?: string }, exit: WorkerExit): CrashInfo {
    const crash = classifyCrash(exit, worker.attached, oomKilledSince(this.#oom.get(worker)), worker.recentStderr);
    this.#crashes.set(worker, crash);
    return crash;
  }

  /** How `worker` died, once it crashed. */
  crashOf(worker: object): CrashInfo | undefined {
    return this.#crashes.get(worker);
  }

  /**
   * A crash of the worker in `slot`. With the barrier on: `'remove'` when the slot crashed more
   * than `maxRestarts` times within `windowSeconds`, else `'taint'` (restart, the slot avoided for
   * `taintMs`) when `markOn` names the crash, else `'restart'`. With it off, always `'restart'`.
   */
  onCrash(slot: number, now: number, crash: Pick<CrashInfo, 'reason' | 'classification'>): 'restart' | 'taint' | 'remove' {
    if (!this.options.enabled) return 'restart';
    if (this.#restarts.record(slot, now)) return 'remove';
    if (this.options.taintMs === 0 || !marks(this.options.markOn, crash)) return 'restart';
    this.#taints.taint(slot, now + this.options.taintMs);
    return 'taint';
  }

  isTainted(slot: number | undefined, now = Date.now()): boolean {
    return this.options.enabled && this.#taints.isTainted(slot, now);
  }

  /** The wait before `call` runs again after `error`, or undefined (see {@link retryDelay}; `deadlineAt` is a `clockMs()` time). */
  retryDelay(call: RetryCandidate, error: unknown): number | undefined {
    return retryDelay(this.options, call, error, clockMs());
  }
}
