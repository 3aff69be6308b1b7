/** A gRPC stream's response side: batched `ToolChunk` messages to the call's chunks, its flow control, its end. */
import type * as grpc from '@grpc/grpc-js';
import { decode } from '../codec.js';
import { creditLink, pauseLink } from '../stream-flow.js';
import type { OutgoingCall } from '../types.js';
import { pythonErrorFromWire } from '../wire-error.js';
import type { ErrorInfoMessage } from './proto.js';
import { wireErrorFromInfo } from './status.js';

/** The wire shape of ToolChunk. */
export interface ChunkMessage {
  item?: 'data' | 'error';
  data?: Buffer;
  error?: ErrorInfoMessage;
  is_final: boolean;
  /** msgpack map (empty: none). */
  metadata?: Buffer;
  /** msgpack array of the chunks that were ready together with this one, after it: `[value, final, metadata?]` (empty: none). */
  batch?: Buffer;
}

/** One chunk of a message's `batch`. */
type BatchEntry = [value: unknown, final: boolean, metadata?: Record<string, unknown>];

/**
 * The most chunks Python may put in one streamed message (`chunk_batch`). A message costs the
 * worker ~100 µs of grpcio thread hand-offs, a chunk a few µs: one message per chunk held gRPC
 * streams at ~7k chunks/s. Python sends a chunk at once when no message is on its way, so
 * batching only groups the chunks that would otherwise wait for the previous message.
 */
export const CHUNKS_PER_MESSAGE = 256;

/**
 * A callback stream's window (`executeStream`: no consumer buffer, so chunks are granted as they
 * arrive). It bounds how far Python runs ahead of the host, as the pipe transport's socketpair
 * buffer does (~280 small chunks there): the channel's 16 MiB HTTP/2 window (for large payloads) let a generator
 * that outpaces the host's decoding run ~100k small chunks, and tens of ms, ahead.
 */
export const CALLBACK_STREAM_WINDOW = 1024;

/** The `window` of a stream's request: the consumer's high-water mark, the callback window, or none (no credit). */
export function streamWindow(call: OutgoingCall, credit: boolean): number {
  if (!call.streaming || !credit) return 0;
  return call.flow ? call.flow.highWaterMark : CALLBACK_STREAM_WINDOW;
}

/** What the transport does for one stream's RPC. */
export interface ChunkStreamEnds {
  /** False once the call left the transport (failed, cancelled): its later chunks are dropped. */
  pending(): boolean;
  /**
   * Sends GrantCredit for `n` chunks the consumer took, or that arrived for a callback (a `window`
   * was sent); `failed` when the grant did not reach the worker.
   */
  grant(n: number, failed: (error: grpc.ServiceError) => void): void;
  /** The stream ended: OK (all chunks delivered), or a Python error chunk. */
  end(ok: boolean, outcome: unknown): void;
  /** The RPC failed (status, lost connection). */
  fail(error: grpc.ServiceError): void;
}

/**
 * Reads `rpc`'s messages into `call.chunk` (each message's chunk, then those in its `batch`), with
 * credit when `window` > 0: Python produces at most `window` chunks beyond those granted, as over
 * the pipe; a consumer that buffers (`call.flow`) grants what it took, a callback what arrived.
 * A worker that predates credit gets HTTP/2's own: a paused response stream stops reading, its
 * window fills, and Python's producer waits.
 */
export function readChunkStream(rpc: grpc.ClientReadableStream<ChunkMessage>, call: OutgoingCall, window: number, ends: ChunkStreamEnds): void {
  let streamError: Error | undefined;
  let failed = false;
  // A lost grant would leave the generator waiting for credit until the call's deadline: the call
  // fails with the grant's error, and the RPC is cancelled so the generator stops.
  const grantFailed = (error: grpc.ServiceError) => {
    if (failed || !ends.pending()) return;
    failed = true;
    ends.fail(error);
    rpc.cancel();
  };
  const grant = (n: number) => ends.pending() && ends.grant(n, grantFailed);
  if (call.flow && window > 0) call.flow.attach(creditLink(call.flow, grant));
  else if (call.flow) call.flow.attach(pauseLink(call.flow, rpc));
  const grantEvery = !call.flow && window > 0 ? Math.max(1, Math.floor(window / 2)) : Infinity;
  let arrived = 0;
  const deliver = (value: unknown, final: boolean, metadata: Record<string, unknown> | undefined) => {
    if (!ends.pending()) return;
    call.chunk(value, final, metadata);
    if (++arrived >= grantEvery) {
      grant(arrived);
      arrived = 0;
    }
  };
  rpc.on('data', (chunk: ChunkMessage) => {
    if (chunk.item === 'error' && chunk.error) {
      streamError = pythonErrorFromWire(wireErrorFromInfo(chunk.error), call.tool);
      return;
    }
    if (!chunk.data) return;
    deliver(decode(chunk.data), chunk.is_final, chunk.metadata?.length ? (decode(chunk.metadata) as Record<string, unknown>) : undefined);
    // One decode for the whole batch: a fraction of the cost of a decode per chunk.
    if (chunk.batch?.length) for (const [value, final, metadata] of decode(chunk.batch) as BatchEntry[]) deliver(value, final, metadata);
  });
  rpc.on('error', (error: grpc.ServiceError) => {
    if (failed) return; // our own cancel after a lost grant
    failed = true;
    ends.fail(error);
  });
  // grpc-js ends the stream after an error too; the error (maybe held) decides then.
  rpc.on('end', () => {
    if (failed) return;
    if (streamError) ends.end(false, streamError);
    else ends.end(true, undefined);
  });
}
