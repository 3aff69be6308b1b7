/** A gRPC worker connection's life as telemetry: established, lost, and reconnected (a loss of the same attached endpoint ended). */
import { performance } from 'node:perf_hooks';
import { emit, enabled } from '../../telemetry/bus.js';

/** An attached endpoint whose connection was lost: when, whose it was, connection attempts since. */
interface LostConnection {
  lostAt: number;
  workerId: string;
  failedAttempts: number;
}

/** Keyed by the pool's endpoint object, so an entry goes with its pool: a later instance never "reconnects". */
const lostConnections = new WeakMap<object, LostConnection>();

/** Who the connection is: what the events carry. */
export interface ConnectionIdentity {
  workerId: string;
  address: string;
  /** A spawned worker's connection (its process is its life), not an attached one. */
  processBound: boolean;
  /** The attached endpoint's object (see `GrpcTransportOptions.endpointKey`). */
  endpointKey: object | undefined;
}

/** A handshake failed: one more attempt to reach an endpoint whose connection was lost. */
export function connectionAttemptFailed(who: ConnectionIdentity): void {
  const lost = who.endpointKey && lostConnections.get(who.endpointKey);
  if (lost) lost.failedAttempts++;
}

/** The connection ended after it was up; `code` says why (`pool_stopped`: our own stop, no loss to recover from). */
export function connectionLost(who: ConnectionIdentity, code: string | undefined): void {
  if (who.endpointKey && code === 'pool_stopped') lostConnections.delete(who.endpointKey);
  else if (who.endpointKey) lostConnections.set(who.endpointKey, { lostAt: performance.now(), workerId: who.workerId, failedAttempts: 0 });
  if (enabled('snakepit.grpc.connection.lost')) {
    emit('snakepit.grpc.connection.lost', {}, { workerId: who.workerId, attached: !who.processBound, address: who.address, code });
  }
}

/** `established`, then `reconnected` when this connection ends a loss of the same attached endpoint. */
export function connectionEstablished(who: ConnectionIdentity, durationMs: number, pid: number): void {
  const attached = !who.processBound;
  if (enabled('snakepit.grpc.connection.established')) {
    emit('snakepit.grpc.connection.established', { durationMs }, { workerId: who.workerId, attached, address: who.address, pid });
  }
  const lost = who.endpointKey && lostConnections.get(who.endpointKey);
  if (!lost) return;
  lostConnections.delete(who.endpointKey!);
  if (enabled('snakepit.grpc.connection.reconnected')) {
    emit(
      'snakepit.grpc.connection.reconnected',
      { downtimeMs: performance.now() - lost.lostAt, attempts: lost.failedAttempts + 1 },
      { workerId: who.workerId, previousWorkerId: lost.workerId, attached: true, address: who.address, pid },
    );
  }
}
