/** Restarts for vacant worker slots: backoff after failed starts, and giving up when start-up keeps failing. */
import { isSnakepitError } from '../errors.js';

/** After this many failed replacements in a row the pool stops respawning (no crash storm). */
export const MAX_CONSECUTIVE_RESTART_FAILURES = 5;
const RESTART_BACKOFF_BASE_MS = 200;
/** Start failures that a retry cannot cure (the config or the adapter must change): no second try. */
export const PERMANENT_START_FAILURES: ReadonlySet<string> = new Set(['adapter_import', 'adapter_not_thread_safe', 'unauthenticated', 'tls_failed', 'insecure_transport']);
const RESTART_BACKOFF_MAX_MS = 10_000;

/** What the restarter needs from its pool. */
export interface ReplacementHooks {
  /** Starts a worker in `slot`; resolves once it is ready. */
  spawn(slot: number): Promise<unknown>;
  /** False once the pool stops, or `slot` was let go (resize): restarts due then are dropped. */
  active(slot: number): boolean;
  /** A replacement is ready. */
  started?(): void;
  /**
   * A replacement could not start. `gaveUp`: start-up keeps failing (or the adapter cannot be
   * imported) and no more tries follow; else another try follows after a backoff.
   */
  failed(error: Error, gaveUp: boolean): void;
}

/**
 * Fills vacant slots one start at a time per slot. A failed start is tried again after an
 * exponential backoff (400 ms, 800 ms, ... up to 10 s); after five failures in a row, or at once
 * when the adapter cannot even be imported, the pool gives up: retrying would only make a crash
 * storm.
 */
export class Replacements {
  readonly #hooks: ReplacementHooks;
  readonly #vacant: number[] = [];
  /** Slots from `vacate` until their worker is ready or the restarts give up (also while a start runs). */
  readonly #pending = new Set<number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #failures = 0;

  constructor(hooks: ReplacementHooks) {
    this.#hooks = hooks;
  }

  /** Slots waiting for a worker. */
  get vacant(): number {
    return this.#vacant.length;
  }

  /** Slots whose replacement is waiting or starting. */
  pendingSlots(): ReadonlySet<number> {
    return this.#pending;
  }

  /** `slot` lost its worker: start a replacement now. */
  vacate(slot: number): void {
    this.#vacant.push(slot);
    this.#pending.add(slot);
    this.#schedule(0);
  }

  /** Runs `fn` after `delayMs` unless `clear()` comes first. */
  later(delayMs: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, delayMs);
    this.#timers.add(timer);
  }

  /** Drops every pending restart and timer (the pool stops). */
  clear(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #schedule(delayMs: number): void {
    this.later(delayMs, () => {
      const slot = this.#vacant.shift();
      if (slot === undefined) return;
      if (!this.#hooks.active(slot)) return void this.#pending.delete(slot);
      this.#hooks.spawn(slot).then(
        () => {
          this.#pending.delete(slot);
          this.#failures = 0;
          this.#hooks.started?.();
        },
        (error: unknown) => {
          if (!this.#hooks.active(slot)) return void this.#pending.delete(slot);
          this.#vacant.push(slot);
          this.#failures++;
          const err = error instanceof Error ? error : new Error(String(error));
          // An adapter that cannot even import, or a worker refusing our token or certificates,
          // will not get better by retrying in a loop.
          const hopeless = (isSnakepitError(err) && PERMANENT_START_FAILURES.has(err.code)) || this.#failures >= MAX_CONSECUTIVE_RESTART_FAILURES;
          if (hopeless) this.#pending.delete(slot);
          this.#hooks.failed(err, hopeless);
          if (!hopeless) this.#schedule(Math.min(RESTART_BACKOFF_BASE_MS * 2 ** this.#failures, RESTART_BACKOFF_MAX_MS));
        },
      );
    });
  }
}
