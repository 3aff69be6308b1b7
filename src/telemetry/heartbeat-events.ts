/**
 * Heartbeat events (the original's `[:snakepit, :heartbeat, ...]`): each ping sent, each pong
 * with its latency, and the monitor giving up on a worker. Missed and recovered pings come from
 * the pool's events (pool-bridge.ts). Called by the heartbeat monitor; a `hasSubscribers` check
 * when nobody listens.
 */
import { emit, enabled } from './bus.js';

/** Whose heartbeat it is (the monitor's hooks carry it). */
export interface HeartbeatTarget {
  readonly pool: string;
  readonly workerId: string;
}

/** A ping went out. */
export function heartbeatPingSent(target: HeartbeatTarget | undefined): void {
  if (target && enabled('snakepit.heartbeat.ping_sent')) emit('snakepit.heartbeat.ping_sent', {}, { pool: target.pool, workerId: target.workerId });
}

/** Its pong came back `latencyMs` after the ping. */
export function heartbeatPongReceived(target: HeartbeatTarget | undefined, latencyMs: number): void {
  if (target && enabled('snakepit.heartbeat.pong_received')) emit('snakepit.heartbeat.pong_received', { latencyMs }, { pool: target.pool, workerId: target.workerId });
}

/** The monitor gave up after `missed` misses in a row (the last one timed out, or the ping failed). */
export function heartbeatMonitorFailure(target: HeartbeatTarget | undefined, missed: number, lastMiss: 'timeout' | 'error'): void {
  if (!target || !enabled('snakepit.heartbeat.monitor_failure')) return;
  emit('snakepit.heartbeat.monitor_failure', { missed }, { pool: target.pool, workerId: target.workerId, failureReason: lastMiss === 'timeout' ? 'heartbeat_timeout' : 'ping_failed' });
}
