import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { encode } from '../../../../src/transport/codec.js';
import { CALLBACK_STREAM_WINDOW, type ChunkMessage, readChunkStream, streamWindow } from '../../../../src/transport/grpc/chunk-stream.js';
import { StreamFlow } from '../../../../src/transport/stream-flow.js';
import type { OutgoingCall } from '../../../../src/transport/types.js';

/** A response stream to push messages into, and what the reader did with them. */
function harness(options: { flow?: StreamFlow; window?: number; grantError?: Error } = {}) {
  const rpc = Object.assign(new EventEmitter(), {
    paused: 0,
    cancelled: 0,
    pause: () => rpc.paused++,
    resume: () => {},
    cancel: () => {
      rpc.cancelled++;
      rpc.emit('error', Object.assign(new Error('Cancelled on client'), { code: 1 })); // as grpc-js does
    },
  });
  const seen: { data: unknown; final: boolean; metadata?: Record<string, unknown> }[] = [];
  const grants: number[] = [];
  const ends: { ok: boolean; outcome: unknown }[] = [];
  let pending = true;
  const call = {
    tool: 'burst',
    streaming: true,
    flow: options.flow,
    chunk: (data: unknown, final: boolean, metadata?: Record<string, unknown>) => seen.push({ data, final, ...(metadata ? { metadata } : {}) }),
  } as unknown as OutgoingCall;
  readChunkStream(rpc as unknown as grpc.ClientReadableStream<ChunkMessage>, call, options.window ?? 0, {
    pending: () => pending,
    grant: (n, failed) => {
      grants.push(n);
      if (options.grantError) failed(options.grantError as grpc.ServiceError);
    },
    end: (ok, outcome) => ends.push({ ok, outcome }),
    fail: (error) => {
      pending = false; // the transport's end of the call
      ends.push({ ok: false, outcome: error });
    },
  });
  const chunk = (i: number, extra: Partial<ChunkMessage> = {}): ChunkMessage => ({ item: 'data', data: encode({ i }), is_final: false, metadata: Buffer.alloc(0), ...extra });
  /** A message: its own chunk, then `batched` ones ([value, final, metadata?], as Python writes them). */
  const send = (first: ChunkMessage, ...batched: unknown[][]) => rpc.emit('data', { ...first, batch: batched.length ? encode(batched) : Buffer.alloc(0) });
  const entry = (i: number, final = false, metadata?: Record<string, unknown>) => (metadata ? [{ i }, final, metadata] : [{ i }, final]);
  return { rpc, seen, grants, ends, chunk, entry, send, stop: () => (pending = false) };
}

describe('readChunkStream', () => {
  it("delivers a message's chunk, then those in its `batch`, in order with their final flags and metadata", () => {
    const h = harness();
    h.send(h.chunk(0, { metadata: encode({ k: 0 }) }), h.entry(1), h.entry(2, false, { k: 2 }));
    h.send(h.chunk(3), h.entry(4, true));
    h.rpc.emit('end');
    expect(h.seen).toEqual([
      { data: { i: 0 }, final: false, metadata: { k: 0 } },
      { data: { i: 1 }, final: false },
      { data: { i: 2 }, final: false, metadata: { k: 2 } },
      { data: { i: 3 }, final: false },
      { data: { i: 4 }, final: true },
    ]);
    expect(h.ends).toEqual([{ ok: true, outcome: undefined }]);
  });

  it('an error chunk after a batch fails the stream after the chunks before it', () => {
    const h = harness();
    const error = { type: 'ValueError', message: 'boom', traceback: '', code: 'python_error', details: Buffer.alloc(0) };
    h.send(h.chunk(0), h.entry(1));
    h.send({ item: 'error', error, is_final: true });
    h.rpc.emit('end');
    expect(h.seen.map((c) => c.data)).toEqual([{ i: 0 }, { i: 1 }]);
    expect(h.ends).toHaveLength(1);
    expect(h.ends[0]).toMatchObject({ ok: false, outcome: { code: 'python_error' } });
  });

  it('drops the rest of a batch once the call left the transport', () => {
    const h = harness();
    h.send(h.chunk(0));
    h.stop();
    h.send(h.chunk(1), h.entry(2));
    expect(h.seen.map((c) => c.data)).toEqual([{ i: 0 }]);
  });

  it('a callback stream grants credit as chunks arrive, half a window at a time', () => {
    const h = harness({ window: 8 });
    h.send(h.chunk(0), h.entry(1), h.entry(2));
    expect(h.grants).toEqual([]);
    h.send(h.chunk(3), h.entry(4), h.entry(5), h.entry(6), h.entry(7), h.entry(8));
    expect(h.grants).toEqual([4, 4]);
  });

  it('a grant that does not reach the worker fails the call with its error and cancels the RPC', () => {
    const lost = Object.assign(new Error('deadline exceeded'), { code: 4 });
    const h = harness({ window: 4, grantError: lost });
    h.send(h.chunk(0), h.entry(1), h.entry(2), h.entry(3));
    expect(h.grants).toEqual([2]);
    expect(h.rpc.cancelled).toBe(1);
    expect(h.ends).toEqual([{ ok: false, outcome: lost }]); // not the CANCELLED of its own cancel
    h.rpc.emit('end');
    expect(h.ends).toHaveLength(1);
  });

  it("a buffering consumer's credit follows what it took, not what arrived", () => {
    const flow = new StreamFlow(4);
    const h = harness({ flow, window: 4 });
    h.send(h.chunk(0), h.entry(1), h.entry(2), h.entry(3));
    expect(h.grants).toEqual([]); // arrivals grant nothing: the consumer's channel reports its buffer
    flow.received();
    flow.received();
    flow.taken();
    flow.taken();
    expect(h.grants).toEqual([2]);
    expect(h.rpc.paused).toBe(0);
  });

  it('without credit (an older worker) a buffering consumer pauses the response stream at its mark', () => {
    const flow = new StreamFlow(2);
    const h = harness({ flow, window: 0 });
    flow.received();
    flow.received();
    expect(h.rpc.paused).toBe(1);
  });
});

describe('streamWindow', () => {
  const call = (streaming: boolean, flow?: StreamFlow) => ({ streaming, flow }) as unknown as OutgoingCall;
  it('is the high-water mark of a buffering consumer, the callback window otherwise, 0 without credit or stream', () => {
    expect(streamWindow(call(true, new StreamFlow(64)), true)).toBe(64);
    expect(streamWindow(call(true), true)).toBe(CALLBACK_STREAM_WINDOW);
    expect(streamWindow(call(true, new StreamFlow(64)), false)).toBe(0);
    expect(streamWindow(call(false), true)).toBe(0);
  });
});
