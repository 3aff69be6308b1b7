/** A batch (`sp.map`) over gRPC: the `ExecuteBatch` RPC; each `BatchResults` message goes to the batch in order. */
import type * as grpc from '@grpc/grpc-js';
import { decode } from '../codec.js';
import type { BatchCall } from '../types.js';
import { itemErrorsFromWire, pythonErrorFromWire } from '../wire-error.js';
import type { ErrorInfoMessage } from './proto.js';
import { wireErrorFromInfo } from './status.js';

/** One `BatchResults` message as grpc-js decodes it (`oneofs: true`, `defaults: true`). */
interface BatchResultsMessage {
  values: Buffer;
  errors: { index: number; error: ErrorInfoMessage }[];
  /** The batch failed as a whole (null when unset). */
  error: ErrorInfoMessage | null;
}

/** What the transport does with the RPC's end: `ended` (ok, or the batch's error), `failed` (the RPC's own status). */
export interface BatchRpcEnds {
  ended(ok: boolean, outcome: unknown): void;
  failed(error: grpc.ServiceError): void;
}

/**
 * Reads `ExecuteBatch`'s results messages (`rpc`, started by the transport) into `batch`, in order.
 * The batch's own error (a final `error` message) ends it after the results before it, as a
 * stream's error chunk does.
 */
export function readBatchResults(rpc: grpc.ClientReadableStream<unknown>, tool: string, batch: BatchCall, ends: BatchRpcEnds): void {
  let batchError: Error | undefined;
  let failed = false;
  rpc.on('data', (data: unknown) => {
    const message = data as BatchResultsMessage;
    if (message.error) batchError = pythonErrorFromWire(wireErrorFromInfo(message.error), tool);
    else if (!batchError) {
      const errors = message.errors.length ? message.errors.map((e) => [e.index, wireErrorFromInfo(e.error)] as const) : undefined;
      batch.results(message.values.length > 0 ? (decode(message.values) as unknown[]) : [], itemErrorsFromWire(errors, tool));
    }
  });
  rpc.on('error', (error: grpc.ServiceError) => {
    failed = true;
    ends.failed(error);
  });
  // grpc-js ends the stream after an error too; the error (maybe held) decides then.
  rpc.on('end', () => {
    if (failed) return;
    if (batchError) ends.ended(false, batchError);
    else ends.ended(true, undefined);
  });
}
