/** gRPC status <-> SnakepitError, in both directions, in this one module. */
import { status as Status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { grpcStatusOf } from '../../error-table.js';
import { GrpcError, isSnakepitError, TimeoutError, ValidationError, WorkerError, type SnakepitError } from '../../errors.js';
import { decode, encode } from '../codec.js';
import type { WireError } from '../types.js';
import { wireErrorFromError } from '../wire-error.js';
import { REFUSED_HEADER, type ErrorInfoMessage } from './proto.js';

/**
 * A failed RPC as a typed error, `details.grpcStatus` the status name. Failures of the gRPC link
 * itself are `GrpcError`s (category `grpc_error`); a deadline, a cancellation and a message too
 * large keep the category of what they mean for the call. Keeps the caller's stack: grpc-js
 * errors carry the stack of its internals, the caller's is more useful.
 */
export function errorFromStatus(error: ServiceError | StatusObject, context: { workerId: string; rpc: string; timeoutMs?: number; address?: string }): SnakepitError {
  const grpcStatus = Status[error.code] ?? String(error.code);
  const details = { workerId: context.workerId, rpc: context.rpc, grpcStatus, grpcDetails: error.details, ...(context.address ? { address: context.address } : {}) };
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
      return new GrpcError(`Worker ${context.workerId} is unreachable: ${error.details}`, 'worker_crashed', grpcStatus, details);
    case Status.UNAUTHENTICATED:
    case Status.PERMISSION_DENIED:
      return new GrpcError(`Worker ${context.workerId} refused the call: ${error.details}`, 'unauthenticated', grpcStatus, details);
    case Status.RESOURCE_EXHAUSTED:
      return new ValidationError(`Message too large for ${context.rpc}: ${error.details}`, 'invalid_argument', details);
    default:
      return new GrpcError(`${context.rpc} on worker ${context.workerId} failed: ${grpcStatus} ${error.details}`, 'protocol_error', grpcStatus, details);
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
