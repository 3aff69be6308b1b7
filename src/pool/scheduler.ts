/** Which worker runs a call: a pure function of the call, the workers and the session bindings. */

/** How strongly a session sticks to its worker. */
export type AffinityMode = 'prefer' | 'strict_queue' | 'strict_fail_fast';

/** What the scheduler needs to know about a worker. */
export interface SchedulableWorker {
  readonly id: string;
  /** Can take another call at `nowMs` (`clockMs()`): a free slot, or room in its pipeline. */
  availableAt(nowMs: number): boolean;
  /** Has a free execution slot: a call sent now starts at once. */
  readonly hasFreeSlot: boolean;
  readonly load: number;
  /** Calls it runs at once. */
  readonly capacity: number;
}

/** The scheduler's verdict for one call. */
export type Placement<W> =
  | { kind: 'run'; worker: W }
  /** Wait in the queue (any worker, or only `workerId` when bound strictly). */
  | { kind: 'queue'; workerId?: string }
  /** Strict fail-fast session whose worker is busy. */
  | { kind: 'busy'; workerId: string }
  /** Strict session whose worker no longer exists. */
  | { kind: 'gone'; workerId: string }
  /** The worker the caller chose (`workerId`) is not a live worker of the pool. */
  | { kind: 'unknown'; workerId: string }
  /** The chosen worker waits, in the host-tool chain, for this very call: it could never run there. */
  | { kind: 'deadlock'; workerId: string };

/**
 * Places a call. Without a session: the least-loaded available worker (first on ties, so a
 * lightly used pool keeps hitting warm workers); load counts pipelined calls, so free slots win.
 * With a bound session: its worker if it has a free slot; otherwise `prefer` falls back to any
 * worker, the strict modes queue or fail.
 */
export function place<W extends SchedulableWorker>(
  workers: readonly W[],
  boundWorkerId: string | undefined,
  mode: AffinityMode,
  nowMs: number,
): Placement<W> {
  if (boundWorkerId !== undefined) {
    const bound = workers.find((w) => w.id === boundWorkerId);
    if (bound?.hasFreeSlot) return { kind: 'run', worker: bound };
    if (mode !== 'prefer') {
      if (!bound) return { kind: 'gone', workerId: boundWorkerId };
      return mode === 'strict_queue' ? { kind: 'queue', workerId: boundWorkerId } : { kind: 'busy', workerId: boundWorkerId };
    }
  }
  let best: W | undefined;
  for (const w of workers) {
    if (w.availableAt(nowMs) && (best === undefined || w.load < best.load)) best = w;
  }
  return best ? { kind: 'run', worker: best } : { kind: 'queue' };
}

/**
 * The workers a call made from inside a host tool may use. The workers in `blocked` each hold a
 * call that waits for this one, so they can take it only on a truly free slot (never pipelined
 * behind the waiting call). `'deadlock'` when the call could never run: every worker is blocked
 * with a single slot, or strict affinity binds it to a blocked worker.
 */
export function reentrantCandidates<W extends SchedulableWorker>(
  workers: readonly W[],
  blocked: ReadonlySet<object>,
  boundWorkerId: string | undefined,
  mode: AffinityMode,
): W[] | 'deadlock' {
  const candidates = workers.filter((w) => !blocked.has(w) || w.hasFreeSlot);
  const bound = workers.find((w) => w.id === boundWorkerId);
  if (bound && mode !== 'prefer' && !candidates.includes(bound)) return 'deadlock';
  if (workers.length > 0 && workers.every((w) => blocked.has(w) && w.capacity === 1)) return 'deadlock';
  return candidates;
}

/**
 * Places a call the caller pinned to `workerId`: that worker if it can take it now, else the queue
 * (for that worker only). `unknown` when it is not a live worker (never was, gone, or draining);
 * `deadlock` when it is blocked in the host-tool chain this call comes from and has a single slot.
 * Taints and sessions do not count: the caller chose.
 */
export function placePinned<W extends SchedulableWorker & { readonly state: string }>(
  workers: readonly W[],
  workerId: string,
  blocked: ReadonlySet<object> | undefined,
  nowMs: number,
): Placement<W> {
  const worker = workers.find((w) => w.id === workerId);
  if (!worker || (worker.state !== 'ready' && worker.state !== 'busy')) return { kind: 'unknown', workerId };
  const isBlocked = blocked?.has(worker) ?? false;
  if (isBlocked && worker.capacity === 1) return { kind: 'deadlock', workerId };
  if (isBlocked ? worker.hasFreeSlot : worker.availableAt(nowMs)) return { kind: 'run', worker };
  return { kind: 'queue', workerId };
}
