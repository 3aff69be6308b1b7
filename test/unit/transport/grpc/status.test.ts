// gRPC status -> typed error: failures of the gRPC link are GrpcErrors (category grpc_error, grpcStatus), the rest keep their meaning.
import { status as Status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { GrpcError, TimeoutError, ValidationError, WorkerError } from '../../../../src/errors.js';
import { isPoolFailure } from '../../../../src/resilience/pool-circuit.js';
import { errorFromStatus } from '../../../../src/transport/grpc/status.js';

const fail = (code: Status) => errorFromStatus({ code, details: 'boom', metadata: undefined as never }, { workerId: 'w1', rpc: 'ExecuteTool', timeoutMs: 50 });

describe('errorFromStatus', () => {
  it.each([
    [Status.UNAVAILABLE, 'worker_crashed', 'UNAVAILABLE'],
    [Status.UNAUTHENTICATED, 'unauthenticated', 'UNAUTHENTICATED'],
    [Status.PERMISSION_DENIED, 'unauthenticated', 'PERMISSION_DENIED'],
    [Status.INTERNAL, 'protocol_error', 'INTERNAL'],
    [Status.UNIMPLEMENTED, 'protocol_error', 'UNIMPLEMENTED'],
    [Status.UNKNOWN, 'protocol_error', 'UNKNOWN'],
  ])('status %s is a GrpcError %s with grpcStatus %s', (code, ourCode, name) => {
    const error = fail(code);
    expect(error).toBeInstanceOf(GrpcError);
    expect(error).toBeInstanceOf(WorkerError); // retries and the crash barrier see a worker failure
    expect(error).toMatchObject({ name: 'GrpcError', code: ourCode, category: 'grpc_error', grpcStatus: name, workerId: 'w1', details: { grpcStatus: name, rpc: 'ExecuteTool' } });
    expect(isPoolFailure(error)).toBe(true);
  });

  it.each([
    [Status.DEADLINE_EXCEEDED, TimeoutError, 'call_timeout', 'timeout', 'DEADLINE_EXCEEDED'],
    [Status.CANCELLED, WorkerError, 'cancelled', 'worker', 'CANCELLED'],
    [Status.RESOURCE_EXHAUSTED, ValidationError, 'invalid_argument', 'validation', 'RESOURCE_EXHAUSTED'],
  ])('status %s keeps its meaning (%s %s) and names the status', (code, Class, ourCode, category, name) => {
    const error = fail(code);
    expect(error).toBeInstanceOf(Class);
    expect(error).not.toBeInstanceOf(GrpcError);
    expect(error).toMatchObject({ code: ourCode, category, details: { grpcStatus: name } });
  });
});
