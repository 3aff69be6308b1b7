// Property tests of the host's frame decoding: any chunking of valid frames gives the same frames, and
// truncated, oversized or garbage input never throws out of the transport: it fails the worker's
// connection with a typed `protocol_error` (or, for an incomplete frame, waits), and nothing else.
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PythonError, WorkerError } from '../../../../src/errors.js';
import { encode } from '../../../../src/transport/codec.js';
import { FrameReader } from '../../../../src/transport/pipe/framing.js';
import { PipeLink } from '../../../../src/transport/pipe/pipe-link.js';
import { PipeTransport } from '../../../../src/transport/pipe/pipe-transport.js';
import { outgoingCall, transportCalls } from '../../../helpers/transport-calls.js';

const MAX = 64 * 1024;

function frame(body: Uint8Array): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
}

/** Cuts `data` at the given (sorted, deduplicated) offsets. */
function cut(data: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of [...points, data.length]) {
    if (p > last) chunks.push(data.subarray(last, p));
    last = Math.max(last, p);
  }
  return chunks;
}

// Mostly small bodies (many frames per chunk), sometimes ones spanning many chunks, and empty ones.
const arbBody = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1000, maxLength: 5000 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
);

describe('FrameReader: chunking', () => {
  it('any chunking of a stream of valid frames yields exactly those frames, in order', () => {
    fc.assert(
      fc.property(fc.array(arbBody, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (bodies, offsets) => {
        const reader = new FrameReader(MAX);
        const stream = Buffer.concat(bodies.map(frame));
        const got: Buffer[] = [];
        // Copies: a body is a view that the reader's next push may not keep.
        for (const chunk of cut(stream, offsets)) reader.push(chunk, (b) => got.push(Buffer.from(b)));
        expect(got.map((b) => b.toString('hex'))).toEqual(bodies.map((b) => Buffer.from(b).toString('hex')));
        expect(reader.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('a stream cut short yields the complete frames and buffers the rest, without throwing', () => {
    fc.assert(
      fc.property(fc.array(arbBody, { minLength: 1, maxLength: 8 }), fc.nat(), fc.array(fc.nat(), { maxLength: 10 }), (bodies, at, offsets) => {
        const stream = Buffer.concat(bodies.map(frame));
        const truncated = stream.subarray(0, at % stream.length); // strictly shorter than the stream
        const reader = new FrameReader(MAX);
        const got: Buffer[] = [];
        for (const chunk of cut(truncated, offsets)) reader.push(chunk, (b) => got.push(Buffer.from(b)));
        // The frames that fit entirely before the cut, and nothing else.
        let end = 0;
        const whole = bodies.filter((b) => (end += 4 + b.length) <= truncated.length);
        expect(got.map((b) => b.toString('hex'))).toEqual(whole.map((b) => Buffer.from(b).toString('hex')));
        expect(reader.bufferedBytes).toBe(truncated.length - whole.reduce((n, b) => n + 4 + b.length, 0));
      }),
      { numRuns: 300 },
    );
  });

  it('an oversized length header throws RangeError (only), however the header is split', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX + 1, max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 20 }), fc.array(fc.nat(), { maxLength: 6 }), (size, tail, offsets) => {
        const header = Buffer.alloc(4);
        header.writeUInt32BE(size);
        const reader = new FrameReader(MAX);
        const thrown: unknown[] = [];
        for (const chunk of cut(Buffer.concat([header, tail]), offsets)) {
          try {
            reader.push(chunk, () => expect.unreachable('no frame from an oversized header'));
          } catch (error) {
            thrown.push(error);
            break;
          }
        }
        expect(thrown).toHaveLength(1);
        expect(thrown[0]).toBeInstanceOf(RangeError);
      }),
      { numRuns: 200 },
    );
  });
});

/** A transport on in-memory pipes, with one call in flight. */
function harness() {
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume(); // the frames we send: discarded
  const calls = transportCalls();
  const transport = new PipeTransport(new PipeLink({ workerId: 'w-prop', input, output, maxFrameBytes: MAX }), calls.events);
  let outcome: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
  const result = calls.call(transport, outgoingCall({ tool: 'echo', args: {} }));
  const settled = result.then(
    (value) => (outcome = { ok: true, value }),
    (error: unknown) => (outcome = { ok: false, error }),
  );
  return { input, transport, calls, settled, outcome: () => outcome };
}

/** Feeds chunks synchronously; a throw out of `write` would be an uncaught exception in production. */
function feed(input: PassThrough, chunks: Buffer[]): void {
  for (const c of chunks) input.write(c);
}

/** Waits for `p`, failing (not hanging) when it has not settled within `ms`. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the call did not settle within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A typed failure: the connection's protocol_error, or the Python error the frame described. */
function expectTyped(error: unknown): void {
  if (error instanceof PythonError) return;
  expectProtocolError(error);
}

/**
 * After feeding garbage: the call is still pending or failed with a typed error (random bytes can
 * form a well-formed `result`/`error` for call 1 only by freak chance: allowed); then ends the harness.
 */
async function expectNoUntypedFailure(h: ReturnType<typeof harness>): Promise<void> {
  // Let the rejection (if any) propagate.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const o = h.outcome();
  if (o && !o.ok) expectTyped(o.error);
  h.transport.fail(new WorkerError('test over', 'worker_crashed', {}));
  await h.settled;
}

function expectProtocolError(error: unknown): void {
  expect(error).toBeInstanceOf(WorkerError);
  expect(error).toMatchObject({ code: 'protocol_error', details: { workerId: 'w-prop' } });
}

// Frame bodies that are certainly bad: not msgpack at all, msgpack but not a map, a map without a
// known `t`, trailing bytes after a value, truncated msgpack.
const arbBadBody = fc.oneof(
  fc.constantFrom(
    Buffer.from([0xc1]), // never-used msgpack byte
    Buffer.from([]), // empty body
    Buffer.from([0xc0]), // nil
    Buffer.from([0x05]), // an int
    Buffer.from([0x92, 0x01]), // truncated array
    Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // array32 of 4G elements, none present
    Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]), // map32 of 4G entries
    Buffer.from([0xc6, 0x7f, 0xff, 0xff, 0xff]), // bin32 of 2G bytes, none present
    Buffer.from('garbage'),
  ),
  fc.anything().map((v) => encode(v)).filter((b) => !(b[0]! >= 0x80 && b[0]! <= 0x8f) && b[0] !== 0xde && b[0] !== 0xdf), // any non-map value
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }).filter((m) => !('t' in m)).map((m) => encode(m)), // a map without `t`
  fc.string().filter((t) => !['ready', 'fatal', 'result', 'chunk', 'end', 'error', 'pong', 'host'].includes(t)).map((t) => encode({ t })),
  fc.tuple(fc.jsonValue(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([v, extra]) => Buffer.concat([encode({ t: 'result', id: 1, value: v }), extra])),
);

describe('PipeTransport: bad input', () => {
  it('a bad frame body fails the in-flight call with protocol_error, however it is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(arbBadBody, fc.array(fc.nat(), { maxLength: 6 }), async (body, offsets) => {
        const h = harness();
        expect(() => feed(h.input, cut(frame(body), offsets))).not.toThrow();
        await settledWithin(h.settled, 2000);
        const o = h.outcome()!;
        expect(o.ok).toBe(false);
        expectProtocolError((o as { error: unknown }).error);
        // Failed for good: later calls and pings are refused with the same typed error.
        await expect(h.calls.call(h.transport, outgoingCall({ tool: 'echo', args: {} }))).rejects.toMatchObject({ code: 'protocol_error' });
        await expect(h.transport.ping(1000)).rejects.toMatchObject({ code: 'protocol_error' });
      }),
      { numRuns: 200 },
    );
  });

  it('an error frame whose error map has a string type and junk elsewhere settles the call with a PythonError', async () => {
    const arbErrorMap = fc.record(
      {
        type: fc.string(),
        message: fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null)),
        traceback: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        code: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        details: fc.jsonValue(),
      },
      { requiredKeys: ['type'] },
    );
    await fc.assert(
      fc.asyncProperty(arbErrorMap, async (error) => {
        const h = harness();
        expect(() => feed(h.input, [frame(encode({ t: 'error', id: 1, error }))])).not.toThrow();
        await settledWithin(h.settled, 1000);
        expectTyped((h.outcome() as { error: unknown }).error);
      }),
      { numRuns: 200 },
    );
  });

  // Found by this suite: a malformed error map used to take the call out of the pending table before
  // the error was built, so the call hung when building threw. Now it settles with protocol_error.
  it.each([[{}], [null], [5], [{ type: 'ValueError', message: { toString: null } }]])('an error frame with error map %j settles the in-flight call', async (error) => {
    const h = harness();
    feed(h.input, [frame(encode({ t: 'error', id: 1, error }))]);
    await settledWithin(h.settled, 300);
    expectTyped((h.outcome() as { error: unknown }).error);
  });

  it('an oversized length header fails the in-flight call with protocol_error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: MAX + 1, max: 2 ** 32 - 1 }), fc.array(fc.nat(), { maxLength: 4 }), async (size, offsets) => {
        const h = harness();
        const header = Buffer.alloc(4);
        header.writeUInt32BE(size);
        expect(() => feed(h.input, cut(Buffer.concat([header, Buffer.from('xyz')]), offsets))).not.toThrow();
        await settledWithin(h.settled, 2000);
        expectProtocolError((h.outcome() as { error: unknown }).error);
      }),
      { numRuns: 100 },
    );
  });

  it('arbitrary bytes never throw; the call is either still pending (incomplete frame) or failed with protocol_error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 8 }), async (bytes, offsets) => {
        const h = harness();
        expect(() => feed(h.input, cut(Buffer.from(bytes), offsets))).not.toThrow();
        await expectNoUntypedFailure(h);
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary frame bodies (valid lengths) never throw out of the transport', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 60 }), { minLength: 1, maxLength: 5 }), async (bodies) => {
        const h = harness();
        expect(() => feed(h.input, [Buffer.concat(bodies.map(frame))])).not.toThrow();
        await expectNoUntypedFailure(h);
      }),
      { numRuns: 300 },
    );
  });
});
