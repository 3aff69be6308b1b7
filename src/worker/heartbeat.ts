/**
 * Heartbeats, host side: a `HeartbeatMonitor` pings one worker on a fixed cadence and declares it
 * hung after too many missed pings in a row. Also the environment that tells the Python side
 * (`snakepit_bridge/heartbeat.py`) how often to expect pings.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.js';
import { heartbeatMonitorFailure, heartbeatPingSent, heartbeatPongReceived, type HeartbeatTarget } from '../telemetry/heartbeat-events.js';

/** Heartbeat settings of a pool (the resolved `heartbeat` config). */
export interface HeartbeatSettings {
  /** Ping workers at all. @default true */
  readonly enabled: boolean;
  /** Time between the starts of two pings, in ms. @default 2000 */
  readonly pingIntervalMs: number;
  /** How long one ping may take before it counts as missed, in ms. @default 10000 */
  readonly timeoutMs: number;
  /** Missed pings in a row after which the worker is killed (and replaced by the pool). @default 3 */
  readonly maxMissedHeartbeats: number;
  /** Delay between the worker becoming ready and the first ping, in ms. @default 0 */
  readonly initialDelayMs: number;
  /**
   * Whether worker and host depend on each other: the Python worker exits (code 5) when the host
   * stops pinging it, and the host kills a worker that misses `maxMissedHeartbeats` pings in a row.
   * False: neither; the host marks such a worker unresponsive (no new calls) until it answers again.
   * @default true
   */
  readonly dependent: boolean;
}

/** One missed heartbeat, as the `heartbeat-missed` events report it. */
export interface HeartbeatMiss {
  /** Misses in a row, this one included. */
  missed: number;
  /** The `maxMissedHeartbeats` setting: at this count the worker is killed. */
  maxMissed: number;
  /** `timeout`: no pong within `timeoutMs`; `error`: the ping failed outright. */
  reason: 'timeout' | 'error';
  /** The ping's error when `reason` is `error`. */
  error?: Error;
}

/** What a monitor knows about its worker, for `listWorkers()`. */
export interface HeartbeatStatus {
  /** When the last pong arrived (ms since the epoch), null before the first. */
  lastHeartbeatAt: number | null;
  /** Misses in a row since the last pong. */
  missedHeartbeats: number;
}

/** How a monitor reaches its worker and reports what it sees. */
export interface HeartbeatHooks {
  /** One round trip to the worker; resolves on the pong. */
  ping(timeoutMs: number): Promise<void>;
  onMissed?(miss: HeartbeatMiss): void;
  /** A pong after at least one miss. */
  onRecovered?(missedBefore: number): void;
  /** `maxMissedHeartbeats` misses in a row (dependent): the monitor has stopped; the caller kills the worker. */
  onDead(miss: HeartbeatMiss): void;
  /** `maxMissedHeartbeats` misses in a row (not dependent): the monitor keeps pinging; `onRecovered` follows a pong. */
  onUnresponsive?(miss: HeartbeatMiss): void;
  logger?: Logger | undefined;
  /** Whose heartbeat this is, for its telemetry events (none without it). */
  telemetry?: HeartbeatTarget | undefined;
}

/**
 * Pings one worker every `pingIntervalMs` (first after `initialDelayMs`), one ping in flight at
 * a time: when a ping takes longer than the interval, the next starts as soon as it settles, so
 * a stuck worker is pinged back to back and detected in about `maxMissedHeartbeats × timeoutMs`.
 * Timers are unref'd: a monitor never keeps the process alive.
 */
export class HeartbeatMonitor {
  #lastPongAt: number | null = null;
  #missed = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    readonly settings: HeartbeatSettings,
    readonly hooks: HeartbeatHooks,
  ) {
    this.#schedule(settings.initialDelayMs);
  }

  /** Last pong time and current run of misses. */
  status(): HeartbeatStatus {
    return { lastHeartbeatAt: this.#lastPongAt, missedHeartbeats: this.#missed };
  }

  /** True once stopped (by `stop()` or by declaring the worker dead). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** No more pings; a ping in flight is ignored when it settles. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#beat(), delayMs);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    this.#timer = undefined;
    const { pingIntervalMs, timeoutMs } = this.settings;
    const sentAt = Date.now();
    const sentAtMs = performance.now();
    heartbeatPingSent(this.hooks.telemetry);
    const outcome = await this.#pingOnce(timeoutMs);
    if (this.#stopped) return;
    if (outcome === 'pong') heartbeatPongReceived(this.hooks.telemetry, performance.now() - sentAtMs);
    if (outcome === 'pong') this.#onPong();
    else this.#onMiss(outcome);
    this.#schedule(Math.max(0, sentAt + pingIntervalMs - Date.now()));
  }

  /** The transport has its own deadline; ours makes sure a ping that never settles still counts. */
  #pingOnce(timeoutMs: number): Promise<'pong' | { reason: 'timeout' | 'error'; error?: Error }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ reason: 'timeout' }), timeoutMs);
      timer.unref();
      let sent: Promise<void>;
      try {
        sent = this.hooks.ping(timeoutMs);
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.then(
        () => {
          clearTimeout(timer);
          resolve('pong');
        },
        (error: unknown) => {
          clearTimeout(timer);
          const err = error instanceof Error ? error : new Error(String(error));
          // Both transports report a ping past its deadline with code 'call_timeout'.
          const timedOut = 'code' in err && err.code === 'call_timeout';
          resolve(timedOut ? { reason: 'timeout' } : { reason: 'error', error: err });
        },
      );
    });
  }

  #onPong(): void {
    const before = this.#missed;
    this.#missed = 0;
    this.#lastPongAt = Date.now();
    if (before > 0) {
      this.hooks.logger?.info(`Heartbeat recovered after ${before} missed`);
      this.hooks.onRecovered?.(before);
    }
  }

  #onMiss(outcome: { reason: 'timeout' | 'error'; error?: Error }): void {
    this.#missed++;
    const maxMissed = this.settings.maxMissedHeartbeats;
    const miss: HeartbeatMiss = { missed: this.#missed, maxMissed, ...outcome };
    this.hooks.logger?.warn(`Heartbeat missed (${this.#missed}/${maxMissed}, ${outcome.reason}${outcome.error ? `: ${outcome.error.message}` : ''})`);
    this.hooks.onMissed?.(miss);
    if (this.#missed < maxMissed || this.#stopped) return;
    if (this.settings.dependent) {
      heartbeatMonitorFailure(this.hooks.telemetry, this.#missed, outcome.reason);
      this.stop();
      this.hooks.onDead(miss);
    } else if (this.#missed === maxMissed) {
      heartbeatMonitorFailure(this.hooks.telemetry, this.#missed, outcome.reason);
      this.hooks.logger?.warn(`Worker unresponsive after ${maxMissed} missed heartbeats; not killed (heartbeat.dependent is false), no new calls until it answers`);
      this.hooks.onUnresponsive?.(miss);
    }
  }
}

/** The environment variables `snakepit_bridge/heartbeat.py` reads (docs/protocol.md). */
export const HEARTBEAT_ENV = {
  intervalMs: 'SNAKEPIT_HEARTBEAT_INTERVAL_MS',
  timeoutMs: 'SNAKEPIT_HEARTBEAT_TIMEOUT_MS',
  maxMissed: 'SNAKEPIT_HEARTBEAT_MAX_MISSED',
  initialDelayMs: 'SNAKEPIT_HEARTBEAT_INITIAL_DELAY_MS',
  dependent: 'SNAKEPIT_HEARTBEAT_DEPENDENT',
} as const;

/**
 * A worker environment with the heartbeat variables set from `settings`, or removed when
 * heartbeats are off: an inherited variable must never arm a watchdog nobody feeds.
 */
export function withHeartbeatEnv(env: Record<string, string>, settings: HeartbeatSettings): Record<string, string> {
  const out = { ...env };
  for (const name of Object.values(HEARTBEAT_ENV)) delete out[name];
  if (!settings.enabled) return out;
  out[HEARTBEAT_ENV.intervalMs] = String(settings.pingIntervalMs);
  out[HEARTBEAT_ENV.timeoutMs] = String(settings.timeoutMs);
  out[HEARTBEAT_ENV.maxMissed] = String(settings.maxMissedHeartbeats);
  out[HEARTBEAT_ENV.initialDelayMs] = String(settings.initialDelayMs);
  out[HEARTBEAT_ENV.dependent] = settings.dependent ? '1' : '0';
  return out;
}
