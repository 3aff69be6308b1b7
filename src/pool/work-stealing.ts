/**
 * Work stealing for pipelined calls: which calls waiting inside a worker (sent, not started) are
 * taken back, and when. A worker left free with nothing queued takes back the oldest calls waiting
 * in others; a worker whose call runs past `pipelineStallMs` gives back what waits behind it. It
 * also remembers the recalls on their way, so that calls taken back together run again in the
 * order they came (a younger one never overtakes an older one still coming back).
 */
import type { Worker } from '../worker/worker.js';
import type { Task } from './task.js';

/** What work stealing asks of its pool. */
export interface StealingHost {
  /** The pool's workers, in slot order. */
  workers(): readonly Worker[];
  /** Calls in the host queue. */
  queueSize(): number;
  readonly settings: { readonly pipelineStallMs: number; readonly affinity: string };
}

export class WorkStealing {
  readonly #host: StealingHost;
  /** Calls whose recall is on its way (pruned lazily: a call that started, settled or left is no longer coming back). */
  readonly #onTheWay = new Set<Task>();
  /** Looks for stalled workers (`Worker.stalled`) while calls wait inside workers; off otherwise. */
  #stallTimer: NodeJS.Timeout | undefined;
  /** Workers that freed a slot since the last balance, and the check that balances them (`balanceSoon`). */
  readonly #freed = new Set<Worker>();
  #balancing: NodeJS.Immediate | undefined;
  /**
   * Keeps waiting calls where they will run soonest: with nothing queued, each freed worker takes back
   * the oldest calls waiting inside other workers (one per free slot); then stalled workers give back theirs.
   */
  readonly #balanceFreed = (): void => {
    this.#balancing = undefined;
    const workers = this.#host.workers();
    for (const worker of this.#freed) if (workers.includes(worker) && this.#host.queueSize() === 0) this.#takeBack(worker);
    this.#freed.clear();
    this.#checkStalls();
  };

  constructor(host: StealingHost) {
    this.#host = host;
  }

  /** A call waits inside a worker: check every `pipelineStallMs` that none waits behind a long call, also when no call ends anywhere to prompt it. */
  watch(): void {
    if (this.#stallTimer) return;
    this.#stallTimer = setInterval(() => this.#checkStalls(), this.#host.settings.pipelineStallMs);
    this.#stallTimer.unref();
  }

  /**
   * Balances once the callers woken by the calls that just ended have sent their next calls
   * (after this turn's promise jobs, in the event loop's check phase): under a steady load those
   * calls fill the freed worker, and taking calls back from the others would only cost frames
   * both ways (measured: one call in 15 was recalled, 16 in flight on 2 workers).
   */
  balanceSoon(freed: Worker): void {
    this.#freed.add(freed);
    this.#balancing ??= setImmediate(this.#balanceFreed);
  }

  /** `freed` takes back the oldest calls waiting inside other workers, one per free slot. */
  #takeBack(freed: Worker): void {
    if (!freed.hasFreeSlot) return;
    let free = freed.capacity - freed.inflight;
    while (free-- > 0) {
      let oldest: { worker: Worker; task: Task; id: number } | undefined;
      for (const worker of this.#host.workers()) {
        if (worker === freed) continue;
        for (const [id, call] of worker.waiting()) {
          const task = call as Task;
          if (!this.#movable(task)) continue;
          if (!oldest || task.seq < oldest.task.seq) oldest = { worker, task, id };
          break; // the first movable one of each worker is its oldest
        }
      }
      if (!oldest) break;
      this.#recall(oldest.worker, oldest.task, oldest.id);
    }
  }

  /** Takes back what waits behind a long call; the timer stops once no call waits inside a worker. */
  #checkStalls(): void {
    let waiting = false;
    for (const worker of this.#host.workers()) {
      if (worker.waitingCount === 0) continue;
      waiting = true;
      if (worker.stalled) this.recallWaiting(worker, false);
    }
    if (!waiting && this.#stallTimer) {
      clearInterval(this.#stallTimer);
      this.#stallTimer = undefined;
    }
  }

  /** Takes back every call waiting inside `worker` (`pinned`: those strict affinity binds to it too, as its sessions moved); never those the caller pinned (`workerId`). */
  recallWaiting(worker: Worker, pinned: boolean): void {
    for (const [id, call] of worker.waiting()) {
      const task = call as Task;
      if (task.workerId !== undefined) continue; // the caller chose this worker
      if (pinned ? !task.recalling && !task.settled : this.#movable(task)) this.#recall(worker, task, id);
    }
  }

  /** `task` came back, or stays where it was (it had started): it is no longer on its way. */
  returned(task: Task): void {
    this.#onTheWay.delete(task);
  }

  /** The arrival number (`Task.seq`) of the oldest call still on its way back; Infinity when none. */
  oldestOnTheWay(): number {
    if (this.#onTheWay.size === 0) return Infinity; // the usual case, asked for every call placed
    let oldest = Infinity;
    for (const task of this.#onTheWay) {
      // Not `running`: the host's guess that a waiting call started (its predecessor ended) can be
      // wrong for a call whose recall is out; its worker's answer is what counts.
      if (!task.recalling || task.settled) this.#onTheWay.delete(task);
      else if (task.seq < oldest) oldest = task.seq;
    }
    return oldest;
  }

  /** A waiting call may go to another worker: not already on its way back, and bound to this one neither by strict affinity nor by the caller (`workerId`). */
  #movable(task: Task): boolean {
    return !task.recalling && !task.settled && task.workerId === undefined && (task.sessionId === undefined || this.#host.settings.affinity === 'prefer');
  }

  #recall(worker: Worker, task: Task, id: number): void {
    task.recalling = true;
    this.#onTheWay.add(task);
    worker.recall(id);
  }
}
