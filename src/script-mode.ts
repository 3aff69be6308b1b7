/**
 * Script mode (`Snakepit.runAsScript`) and `Snakepit.cleanup()`: start, run, always stop, with
 * every wait bounded — the original's `run_as_script/2` and `cleanup/0`.
 */
import { TimeoutError } from './errors.js';
import { liveProcessIds, noteForcedKill, onForcedKill } from './process/live-processes.js';
import { killLeftovers } from './process/reaper.js';

/** Options of `Snakepit.runAsScript` (besides `config` and the start options). */
export interface ScriptModeOptions {
  /** Longest wait for the pools to start (an instance still starting then is stopped), in ms. `Infinity`: no bound. @default 15000 */
  timeoutMs?: number;
  /**
   * Longest wait for the instance to stop, in ms: queued calls fail, workers get SIGTERM and, after
   * each pool's `gracefulShutdownTimeoutMs`, SIGKILL; the host server closes. @default 15000
   */
  shutdownTimeoutMs?: number;
  /**
   * Worker processes still alive after the stop (or when it was given up) get this long to exit
   * before SIGKILL, in ms; a second after that the script goes on regardless (the cleanup is
   * bounded by `cleanupTimeoutMs + 1000`). @default 5000
   */
  cleanupTimeoutMs?: number;
  /** `process.exit` after the cleanup: 0, or 1 if the function threw (or the start failed). @default false, or `SNAKEPIT_SCRIPT_HALT=true` */
  halt?: boolean;
  /** Longest time the function itself may run (it then rejects with `call_timeout`, details `{ scope: 'script' }`), in ms. @default no limit */
  scriptTimeoutMs?: number;
}

/** What `Snakepit.cleanup()` did. */
export interface CleanupResult {
  /** Instances stopped. */
  stopped: number;
  /** Worker pids that had to be SIGKILLed (they outlived their SIGTERM grace, or the stop). */
  killed: number[];
  /** Worker pids still alive after SIGKILL and a further wait (stuck in the kernel). */
  resisted: number[];
}

/** What script mode needs of an instance. */
export interface StoppableInstance {
  readonly runId: string;
  stop(options?: { timeoutMs?: number | undefined }): Promise<void>;
}

export const SCRIPT_DEFAULTS = { timeoutMs: 15_000, shutdownTimeoutMs: 15_000, cleanupTimeoutMs: 5_000 } as const;
/** How long SIGKILLed processes get to vanish before the script goes on. */
const KILL_WAIT_MS = 1_000;

/** Resolves true when `promise` settles within `ms`, false otherwise (never rejects). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  if (!Number.isFinite(ms)) return promise.then(() => true, () => true);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Bounds of `stopBounded`. */
export interface StopBounds {
  /** SIGTERM → SIGKILL delay of the stop. @default each pool's `gracefulShutdownTimeoutMs` */
  gracefulTimeoutMs?: number | undefined;
  shutdownTimeoutMs: number;
  cleanupTimeoutMs: number;
  /** Leftovers are any worker this process spawned, not only those of `instances`. */
  allWorkers?: boolean;
}

/**
 * Stops `instances`, waits for that at most `shutdownTimeoutMs`, then gives any of their workers
 * still alive `cleanupTimeoutMs` to exit before SIGKILL. Never rejects.
 */
export async function stopBounded(instances: StoppableInstance[], bounds: StopBounds): Promise<CleanupResult> {
  const killed = new Set<number>();
  const unsubscribe = onForcedKill((pid) => killed.add(pid));
  try {
    const stopping = Promise.all(instances.map((i) => i.stop({ timeoutMs: bounds.gracefulTimeoutMs })));
    await settlesWithin(stopping, bounds.shutdownTimeoutMs);
    // Workers that outlived the stop (it was given up, or one was still starting).
    const leftovers = () => (bounds.allWorkers ? liveProcessIds() : instances.flatMap((i) => liveProcessIds(i.runId)));
    if (leftovers().length > 0) await settlesWithin(workersGone(leftovers), bounds.cleanupTimeoutMs);
    const last = await killLeftovers(leftovers(), KILL_WAIT_MS);
    for (const pid of last.killed) {
      killed.add(pid);
      noteForcedKill(pid);
    }
    return { stopped: instances.length, killed: [...killed], resisted: last.resisted };
  } finally {
    unsubscribe();
  }
}

/** Resolves once `pids()` is empty (tracked pids leave as their exit is seen). */
async function workersGone(pids: () => number[]): Promise<void> {
  while (pids().length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Settles as `work` does, or rejects with the signal's reason once it aborts (`work` is then left to fail quietly). */
export async function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  work.catch(() => {});
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason as Error);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Whether script mode halts by default (`SNAKEPIT_SCRIPT_HALT=true`). */
export function haltFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env.SNAKEPIT_SCRIPT_HALT ?? '');
}

/**
 * Runs `fn` with an instance from `start`, then stops it within the bounds. Resolves with `fn`'s
 * result, rejects with its error (or the start's); with `halt`, exits the process instead.
 */
export async function runScriptMode<I extends StoppableInstance, T>(
  start: (signal: AbortSignal) => Promise<I>,
  fn: (instance: I) => Promise<T> | T,
  options: ScriptModeOptions,
): Promise<T> {
  const halt = options.halt ?? haltFromEnv();
  const startTimeoutMs = options.timeoutMs ?? SCRIPT_DEFAULTS.timeoutMs;
  const controller = new AbortController();
  const startTimer = Number.isFinite(startTimeoutMs)
    ? setTimeout(() => controller.abort(new TimeoutError(`Pools did not start within ${startTimeoutMs} ms`, 'startup_timeout', startTimeoutMs, { scope: 'script' })), startTimeoutMs)
    : undefined;
  let instance: I;
  try {
    instance = await start(controller.signal);
  } catch (error) {
    if (halt) exitAfter(error, 1);
    throw error;
  } finally {
    clearTimeout(startTimer);
  }
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await withScriptTimeout(instance, fn, options.scriptTimeoutMs) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  await stopBounded([instance], {
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? SCRIPT_DEFAULTS.shutdownTimeoutMs,
    cleanupTimeoutMs: options.cleanupTimeoutMs ?? SCRIPT_DEFAULTS.cleanupTimeoutMs,
  });
  if (halt) exitAfter(outcome.ok ? undefined : outcome.error, outcome.ok ? 0 : 1);
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

async function withScriptTimeout<I, T>(instance: I, fn: (instance: I) => Promise<T> | T, timeoutMs: number | undefined): Promise<T> {
  const work = Promise.resolve().then(() => fn(instance));
  if (timeoutMs === undefined || !Number.isFinite(timeoutMs)) return work;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(`Script did not finish within ${timeoutMs} ms`, 'call_timeout', timeoutMs, { scope: 'script' })), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function exitAfter(error: unknown, code: number): never {
  if (error !== undefined) process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(code);
}
