/** gRPC status <-> SnakepitError, in both directions, in this one module. */
import { status as Status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { grpcStatusOf } from '../../error-table.js';
import { isSnakepitError, TimeoutError, ValidationError, WorkerError, type SnakepitError } from '../../errors.js';
import { decode, encode } from '../codec.js';
import type { WireError } from '../types.js';
import { wireErrorFromError } from '../wire-error.js';
import { REFUSED_HEADER, type ErrorInfoMessage } from './proto.js';

/**
 * A failed RPC as a typed error. Keeps the caller's stack: grpc-js errors carry the stack of its
 * internals, the caller's is more useful.
 */
export function errorFromStatus(error: ServiceError | StatusObject, context: { workerId: string; rpc: string; timeoutMs?: number; address?: string }): SnakepitError {
  const details = { workerId: context.workerId, rpc: context.rpc, grpcCode: Status[error.code], grpcDetails: error.details, ...(context.address ? { address: context.address } : {}) };
  // A draining worker (snakepit_bridge/drain.py) refuses before starting anything: the call may go elsewhere.
  if (error.code === Status.UNAVAILABLE && error.metadata?.get(REFUSED_HEADER)[0] === 'draining') {
    return new WorkerError(`Worker ${context.workerId} is draining and refused ${context.rpc}`, 'worker_draining', details);
  }
  switch (error.code) {
    case Status.DEADLINE_EXCEEDED:
      return new TimeoutError(`${context.rpc} on worker ${context.workerId} passed its deadline`, 'call_timeout', context.timeoutMs ?? 0, details);
    case Status.CANCELLED:
      return new WorkerError(`${context.rpc} on worker ${context.workerId} was cancelled`, 'cancelled', details);
    case Status.UNAVAILABLE:
      return new WorkerError(`Worker ${context.workerId} is unreachable: ${error.details}`, 'worker_crashed', details);
    case Status.UNAUTHENTICATED:
    case Status.PERMISSION_DENIED:
      return new WorkerError(`Worker ${context.workerId} refused the call: ${error.details}`, 'unauthenticated', details);
    case Status.RESOURCE_EXHAUSTED:
      return new ValidationError(`Message too large for ${context.rpc}: ${error.details}`, 'invalid_argument', details);
    default:
      return new WorkerError(`${context.rpc} on worker ${context.workerId} failed: ${Status[error.code]} ${error.details}`, 'protocol_error', details);
  }
}

/** The status a host service answers with when a handler fails (the error table's, by code and category). */
export function statusFromError(error: unknown): { code: Status; details: string } {
  if (!isSnakepitError(error)) return { code: Status.INTERNAL, details: error instanceof Error ? error.message : String(error) };
  return { code: Status[grpcStatusOf(error.code, error.category)], details: error.message };
}

/** ErrorInfo (Python's error map on the gRPC wire) as the transport-neutral WireError. */
export function wireErrorFromInfo(info: ErrorInfoMessage): WireError {
  const wire: WireError = { type: info.type, message: info.message, traceback: info.traceback };
  if (info.code) wire.code = info.code;
  if (info.details && info.details.length > 0) wire.details = decode(info.details) as Record<string, unknown>;
  return wire;
}

/** A host-side error as ErrorInfo, for answers of host tools to Python. */
export function infoFromError(error: unknown): ErrorInfoMessage {
  const wire = wireErrorFromError(error);
  return { type: wire.type, message: wire.message, traceback: wire.traceback, code: wire.code ?? '', details: encode(wire.details ?? {}) };
}
