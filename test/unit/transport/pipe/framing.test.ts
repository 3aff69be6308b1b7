import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { correlationIdOf } from '../../../../src/correlation-id.js';
import { decode, encode } from '../../../../src/transport/codec.js';
import { CompactCall } from '../../../../src/transport/pipe/compact-call.js';
import { COMPACT } from '../../../../src/transport/pipe/frames.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameBatch, FrameReader, writeFrame } from '../../../../src/transport/pipe/framing.js';

/** `body` with its 4-byte big-endian length header (built here so the reader is tested independently). */
function frame(body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** Feeds `chunks` to a fresh reader and returns the bodies it emitted (copied, as hex). */
function feed(chunks: Buffer[], reader = new FrameReader()): string[] {
  const bodies: string[] = [];
  for (const chunk of chunks) reader.push(chunk, (body) => bodies.push(Buffer.from(body).toString('hex')));
  return bodies;
}

/** `data` cut at the given offsets (ascending). */
function cut(data: Buffer, offsets: number[]): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (const offset of [...offsets, data.length]) {
    parts.push(data.subarray(start, offset));
    start = offset;
  }
  return parts;
}

const BODIES = [Buffer.from('hello'), Buffer.alloc(0), Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8]), Buffer.alloc(0), Buffer.from('x')];
const STREAM = Buffer.concat(BODIES.map(frame));
const EXPECTED = BODIES.map((b) => b.toString('hex'));

/** A sink recording each write or writev as one batch of chunks. */
function recordingSink() {
  const batches: Buffer[][] = [];
  const sink = new Writable({
    writev(chunks, callback) {
      batches.push(chunks.map((c) => c.chunk as Buffer));
      callback();
    },
    write(chunk: Buffer, _encoding, callback) {
      batches.push([chunk]);
      callback();
    },
  });
  return { sink, batches };
}

describe('writeFrame', () => {
  it.each([0, 1, 5, 300, 70_000])('writes a %i-byte body after its big-endian length, in one writev', async (n) => {
    const { sink, batches } = recordingSink();
    const body = Buffer.alloc(n, 7);
    writeFrame(sink, body);
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(batches).toHaveLength(1);
    const written = Buffer.concat(batches.flat());
    expect(written.readUInt32BE(0)).toBe(n);
    expect(written.subarray(4).equals(body)).toBe(true);
    // What writeFrame writes, a FrameReader reads back.
    expect(feed([written])).toEqual([body.toString('hex')]);
  });
});

describe('FrameBatch', () => {
  it('writes a burst of small frames as one buffer, in order, and is empty after', async () => {
    const { sink, batches } = recordingSink();
    const batch = new FrameBatch();
    for (const body of BODIES) batch.add(body);
    expect(batch.size).toBe(BODIES.length);
    batch.flush(sink);
    expect(batch.size).toBe(0);
    batch.flush(sink); // nothing queued: nothing written
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(batches).toEqual([[STREAM]]);
  });

  it('writes a large body by reference between the small frames around it, in one writev', async () => {
    const { sink, batches } = recordingSink();
    const large = Buffer.alloc(70_000, 9);
    const bodies = [Buffer.from('a'), large, Buffer.from('bc'), Buffer.alloc(0)];
    const batch = new FrameBatch();
    for (const body of bodies) batch.add(body);
    batch.flush(sink);
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.some((chunk) => chunk === large)).toBe(true); // not copied
    expect(feed([Buffer.concat(batches[0]!)])).toEqual(bodies.map((b) => b.toString('hex')));
  });

  it('writes a body in parts as one frame: a large one with its large part by reference, a small one copied', async () => {
    const { sink, batches } = recordingSink();
    const large = Buffer.alloc(70_000, 9);
    const bigParts = [Buffer.from('head'), large, Buffer.from('tail')];
    const smallParts = [Buffer.from('x'), Buffer.alloc(0), Buffer.from('yz')];
    const batch = new FrameBatch();
    batch.add(Buffer.from('a'));
    batch.addParts(bigParts);
    batch.addParts(smallParts);
    batch.addParts([Buffer.from('h'), Buffer.alloc(20_000, 3), Buffer.alloc(0)]);
    expect(batch.size).toBe(4);
    batch.flush(sink);
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.some((chunk) => chunk === large)).toBe(true); // not copied
    expect(batches[0]!.some((chunk) => chunk.length === 0)).toBe(false); // an empty part is not written
    expect(feed([Buffer.concat(batches[0]!)])).toEqual(
      [Buffer.from('a'), Buffer.concat(bigParts), Buffer.from('xyz'), Buffer.concat([Buffer.from('h'), Buffer.alloc(20_000, 3)])].map((b) => b.toString('hex')),
    );
  });
});

describe('FrameReader.pushRanges', () => {
  it('gives each body as a range of the data it was cut from, the same bodies push gives', () => {
    for (const at of [0, 3, 17, STREAM.length - 2]) {
      const bodies: string[] = [];
      const reader = new FrameReader();
      for (const chunk of cut(STREAM, [at])) reader.pushRanges(chunk, (data, start, end) => bodies.push(data.subarray(start, end).toString('hex')));
      expect(bodies).toEqual(EXPECTED);
    }
  });
});

describe('FrameBatch with compact calls', () => {
  it('writes a compact call from its args into the one buffer, between other frames, in order', async () => {
    const { sink, batches } = recordingSink();
    const args = { value: 'x', n: 7 };
    const packed = encode([args]);
    // The args in the middle of a larger buffer: only their range is read.
    const holder = Buffer.concat([Buffer.from([1, 2, 3]), packed, Buffer.from([4, 5])]);
    const batch = new FrameBatch();
    batch.add(Buffer.from('a'));
    batch.add(new CompactCall(9, 'echo', holder, 3, 3 + packed.length, 5, undefined));
    batch.add(Buffer.alloc(70_000, 9));
    batch.add(new CompactCall(2 ** 33, 'echo', packed, 0, packed.length, 0, 'mine'));
    batch.flush(sink);
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(batches).toHaveLength(1);
    const bodies: Buffer[] = [];
    new FrameReader().push(Buffer.concat(batches[0]!), (body) => bodies.push(Buffer.from(body)));
    expect(bodies).toHaveLength(4);
    expect(bodies[0]!.toString()).toBe('a');
    expect(decode(bodies[1]!)).toEqual([COMPACT.call, 9, 'echo', args, correlationIdOf(5)]);
    expect(bodies[2]!.length).toBe(70_000);
    expect(decode(bodies[3]!)).toEqual([COMPACT.call, 2 ** 33, 'echo', args, 'mine']);
  });
});

describe('FrameReader.push', () => {
  it('emits every frame of one chunk, in order, including zero-length bodies', () => {
    expect(feed([STREAM])).toEqual(EXPECTED);
  });

  it.each(Array.from({ length: STREAM.length + 1 }, (_, i) => i))('emits the same frames when split at byte %i', (at) => {
    expect(feed(cut(STREAM, [at]))).toEqual(EXPECTED);
  });

  it('emits the same frames for every split into three chunks', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      for (let j = i; j <= STREAM.length; j++) {
        expect(feed(cut(STREAM, [i, j])), `split at ${i}, ${j}`).toEqual(EXPECTED);
      }
    }
  });

  it('emits the same frames when fed one byte at a time', () => {
    const bytes = Array.from(STREAM, (b) => Buffer.from([b]));
    expect(feed(bytes)).toEqual(EXPECTED);
  });

  it('ignores empty chunks, also mid-frame', () => {
    const [a, b] = cut(STREAM, [7]) as [Buffer, Buffer];
    expect(feed([Buffer.alloc(0), a, Buffer.alloc(0), Buffer.alloc(0), b, Buffer.alloc(0)])).toEqual(EXPECTED);
  });

  it.each([1, 2, 3])('reassembles a header split after %i byte(s)', (at) => {
    const data = frame(Buffer.from('abc'));
    const reader = new FrameReader();
    const bodies = feed([data.subarray(0, at)], reader);
    expect(bodies).toEqual([]);
    expect(reader.bufferedBytes).toBe(at);
    expect(feed([data.subarray(at)], reader)).toEqual([Buffer.from('abc').toString('hex')]);
    expect(reader.bufferedBytes).toBe(0);
  });

  it('emits a body that is a view of exactly its bytes', () => {
    const seen: Buffer[] = [];
    new FrameReader().push(Buffer.concat([frame(Buffer.from('ab')), frame(Buffer.from('cde'))]), (b) => seen.push(b));
    expect(seen.map((b) => b.length)).toEqual([2, 3]);
    expect(seen.map((b) => b.toString())).toEqual(['ab', 'cde']);
  });
});

describe('FrameReader.bufferedBytes', () => {
  it.each([
    // [bytes fed, expected buffered]
    [0, 0],
    [2, 2], // half a header
    [4, 4], // a whole header, no body
    [6, 6], // header + 2 of 5 body bytes
    [9, 0], // the first frame complete
    [11, 2], // the first frame, then half the next header
  ])('after %i bytes of the stream is %i', (n, expected) => {
    const reader = new FrameReader();
    feed([STREAM.subarray(0, n)], reader);
    expect(reader.bufferedBytes).toBe(expected);
  });

  it('is 0 after the whole stream, however it was split', () => {
    for (let at = 0; at <= STREAM.length; at++) {
      const reader = new FrameReader();
      feed(cut(STREAM, [at]), reader);
      expect(reader.bufferedBytes, `split at ${at}`).toBe(0);
    }
  });

  it('counts every byte of a frame still arriving in several chunks', () => {
    const data = frame(Buffer.alloc(20, 1));
    const reader = new FrameReader();
    for (let fed = 1; fed < data.length; fed++) {
      feed([data.subarray(fed - 1, fed)], reader);
      expect(reader.bufferedBytes).toBe(fed);
    }
    expect(feed([data.subarray(data.length - 1)], reader)).toHaveLength(1);
    expect(reader.bufferedBytes).toBe(0);
  });
});

describe('frame size limit', () => {
  it('defaults to 256 MiB', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(256 * 1024 * 1024);
  });

  it('accepts a frame of exactly the limit', () => {
    expect(feed([frame(Buffer.alloc(10))], new FrameReader(10))).toHaveLength(1);
  });

  it.each([
    ['in one chunk', [frame(Buffer.alloc(11))]],
    ['from the header alone, before the body arrives', [frame(Buffer.alloc(11)).subarray(0, 4)]],
    ['from a header split across chunks', [frame(Buffer.alloc(11)).subarray(0, 2), frame(Buffer.alloc(11)).subarray(2, 4)]],
    ['after earlier frames of the same chunk', [Buffer.concat([frame(Buffer.from('ok')), frame(Buffer.alloc(11))])]],
  ])('throws RangeError for an oversize frame %s', (_label, chunks) => {
    const reader = new FrameReader(10);
    expect(() => feed(chunks, reader)).toThrow(RangeError);
  });

  it('still emits the frames before an oversize one in the same chunk', () => {
    const bodies: string[] = [];
    const reader = new FrameReader(10);
    const chunk = Buffer.concat([frame(Buffer.from('ok')), frame(Buffer.alloc(11))]);
    expect(() => reader.push(chunk, (b) => bodies.push(b.toString()))).toThrow(RangeError);
    expect(bodies).toEqual(['ok']);
  });

  it('checks the length against the default limit', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(DEFAULT_MAX_FRAME_BYTES + 1, 0);
    expect(() => feed([header])).toThrow(RangeError);
  });
});
