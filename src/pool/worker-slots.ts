/**
 * A pool's worker slots: where each slot's worker comes from (the spawn template, a listed
 * address, or an address DNS discovery found), which slot a worker fills, and what becomes of a
 * slot when its worker goes (restarted, joined again by discovery, or let go for good).
 */
import { isSnakepitError } from '../errors.js';
import type { Logger } from '../logger.js';
import { watchHealth } from '../transport/grpc/health-check.js';
import type { AttachedEndpoint, SpawnedEndpoint, Worker } from '../worker/worker.js';
import { Discovery } from './discovery.js';
import { whenDrained } from './lifecycle.js';
import type { PoolOptions, RemoteDrainReason } from './pool-types.js';
import { Endpoints, startInBatches } from './worker-ops.js';

/** What the slots ask of their pool. */
export interface SlotHooks {
  /** Starts the worker of `slot` and resolves once it is ready (the first workers, discovery's joins). */
  join(slot: number): Promise<unknown>;
  /** Starts a replacement for `slot` (spawned and listed workers: the pool's restarts with backoff). */
  restart(slot: number): void;
  /** The slots changed (discovery: addresses came or went). */
  changed(): void;
  /** The pool's workers. */
  workers(): readonly Worker[];
  /** A remote worker began to drain (it takes no new calls from now on). */
  draining(worker: Worker, reason: RemoteDrainReason): void;
  /** How long a delisted address's worker gets to stop once its calls are done, in ms. */
  stopGraceMs: number;
  logger: Logger;
}

export class WorkerSlots {
  /** DNS discovery (`discovery` pools): one slot per address. */
  readonly discovery: Discovery | undefined;
  readonly #endpoints: Pick<Endpoints, 'take' | 'release'>;
  readonly #slotOf = new WeakMap<Worker, number>();
  /** Remote workers that refused a call because they drain: they take no new calls, and their end is no crash. */
  readonly #drainingRemote = new WeakSet<Worker>();
  readonly #source: PoolOptions['endpoints'];
  /** Spawned pools: the slots wanted now (`poolSize`, then what `resize` made it). */
  #spawnSize: number;
  /** Spawned pools: the next slot number never used (a slot added by `resize` starts with no crash history). */
  #nextSlot: number;
  /** Slots `resize` let go: their workers drain and stop, and nothing restarts them. */
  readonly #retired = new Set<number>();

  constructor(
    pool: string,
    source: PoolOptions['endpoints'],
    readonly poolSize: number,
    readonly hooks: SlotHooks,
  ) {
    this.#source = source;
    this.#spawnSize = poolSize;
    this.#nextSlot = poolSize;
    this.discovery =
      source.kind === 'discover'
        ? new Discovery(pool, source.discovery, source.template, { join: hooks.join, leave: (slot) => this.#leave(slot), changed: hooks.changed, logger: hooks.logger })
        : undefined;
    this.#endpoints = source.kind === 'discover' ? this.discovery! : new Endpoints(source, pool);
  }

  /**
   * Starts the pool's first workers: discovery's first round, or every slot in batches of
   * `startupBatchSize`. Rejects with the first failure, or `stoppedError()` once `stillStarting()` is false.
   */
  async fill(batches: { startupBatchSize: number; startupBatchDelayMs: number }, stillStarting: () => boolean, stoppedError: () => Error): Promise<void> {
    if (this.discovery) return this.discovery.start();
    await startInBatches(this.size, batches.startupBatchSize, batches.startupBatchDelayMs, (slot) => this.hooks.join(slot), stillStarting, stoppedError);
  }

  /** Slots now: the discovered addresses, the listed workers, or `poolSize`. */
  get size(): number {
    if (this.discovery) return this.discovery.size;
    return this.#source.kind === 'attach' ? this.#source.workers.length : this.#spawnSize;
  }

  /** Only spawned pools can change size: the host cannot start attached or discovered workers. */
  get resizable(): boolean {
    return this.#source.kind === 'spawn';
  }

  /** Spawned pools: the slot count is now `size`. */
  setSize(size: number): void {
    this.#spawnSize = size;
  }

  /** A slot number not used before, for a worker `resize` adds. */
  freshSlot(): number {
    return this.#nextSlot++;
  }

  /** `resize` lets `slot` go: no worker will be started for it again. */
  retire(slot: number): void {
    this.#retired.add(slot);
  }

  isRetired(slot: number): boolean {
    return this.#retired.has(slot);
  }

  /** The endpoint of `slot`'s next worker. */
  take(slot: number): SpawnedEndpoint | AttachedEndpoint {
    return this.#endpoints.take(slot);
  }

  /** Its worker failed to start or is gone. */
  release(endpoint: SpawnedEndpoint | AttachedEndpoint): void {
    this.#endpoints.release(endpoint);
  }

  /** `worker` fills `slot`. A remote one is watched: when its health says NOT_SERVING it drains, and gets no new calls from then on. */
  assign(worker: Worker, slot: number): void {
    this.#slotOf.set(worker, slot);
    const endpoint = worker.options.endpoint;
    if (endpoint.kind !== 'attach') return;
    const unwatch = watchHealth(endpoint.address, endpoint.security, endpoint.keepalive, (status) => status === 'NOT_SERVING' && this.#draining(worker, 'not_serving'));
    worker.once('exit', unwatch);
  }

  slotOf(worker: Worker): number {
    return this.#slotOf.get(worker) as number;
  }

  /**
   * True when `error` is a remote worker's refusal because it drains (`worker_draining`): the call
   * never started and may go elsewhere; the worker takes no new calls from now on.
   */
  refusedDraining(worker: Worker, error: Error): boolean {
    if (!isSnakepitError(error) || error.code !== 'worker_draining') return false;
    this.#draining(worker, 'refused');
    return true;
  }

  /** A remote worker said it drains (its health, or a refusal): no new calls; its end will be no crash. */
  #draining(worker: Worker, reason: RemoteDrainReason): void {
    this.#drainingRemote.add(worker);
    if (worker.drain()) this.hooks.draining(worker, reason);
  }

  /** True when `worker` said it drains before it went: a pod's end, no crash. */
  drainedRemote(worker: Worker): boolean {
    return this.#drainingRemote.has(worker);
  }

  /** `slot` lost its worker: discovery joins its address again next round; others are restarted. */
  vacate(slot: number): void {
    if (this.#retired.has(slot)) return;
    if (this.discovery) this.discovery.lost(slot);
    else this.hooks.restart(slot);
  }

  /** The crash barrier removed `slot` for good (a discovered address stays out while it is listed). */
  remove(slot: number): void {
    this.discovery?.remove(slot);
  }

  /** The workers of `slot` among `workers`. */
  workersIn(slot: number, workers: readonly Worker[]): Worker[] {
    return workers.filter((w) => this.#slotOf.get(w) === slot);
  }

  /** Discovery delisted `slot`'s address: its worker takes no new calls, finishes those it has, then goes. */
  #leave(slot: number): void {
    for (const worker of this.workersIn(slot, this.hooks.workers())) {
      if (worker.drain()) this.hooks.draining(worker, 'delisted');
      void whenDrained(worker).then(() => worker.stop(this.hooks.stopGraceMs));
    }
  }

  stop(): void {
    this.discovery?.stop();
  }
}
