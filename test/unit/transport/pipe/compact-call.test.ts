// The compact call written by hand (src/transport/pipe/compact-call.ts) must decode to exactly the
// array msgpack would have made: `[0, id, tool, args, corr]`, for every id size, tool name and kind of correlation id.
import { describe, expect, it } from 'vitest';
import { CORRELATION_PREFIX, correlationIdOf, newCorrelationId } from '../../../../src/correlation-id.js';
import { decode, encode, encodePayload, packInPlace } from '../../../../src/transport/codec.js';
import { COMPACT_ARGS_COPY_LIMIT, CompactCall, encodeCompactCall, encodeCompactCallParts, msgpackStr } from '../../../../src/transport/pipe/compact-call.js';
import { COMPACT } from '../../../../src/transport/pipe/frames.js';

const argsInArray = (args: Record<string, unknown>): Buffer => encodePayload([args], {}, 0).body;

describe('encodeCompactCall', () => {
  it.each([
    ['a small id', 1],
    ['an id past 2^32', 2 ** 32 + 7],
    ['the largest safe id', Number.MAX_SAFE_INTEGER],
  ])('%s', (_what, id) => {
    const args = { value: 'x', nested: { list: [1, 2.5, null, true], bytes: Buffer.from([1, 2, 3]) } };
    expect(decode(encodeCompactCall(id, 'echo', argsInArray(args), 0, 'c-1'))).toEqual([COMPACT.call, id, 'echo', args, 'c-1']);
  });

  it('writes a made correlation id from its number, as correlationIdOf spells it', () => {
    for (const seq of [1, 15, 16, 255, 4096, 2 ** 40 + 3, 16 ** 12 - 1, 16 ** 12, 2 ** 52]) {
      const body = encodeCompactCall(9, 'echo', argsInArray({}), seq, undefined);
      const corr = (decode(body) as unknown[])[4];
      expect(corr).toBe(correlationIdOf(seq));
      if (seq < 16 ** 12) expect(corr).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    expect((decode(encodeCompactCall(9, 'echo', argsInArray({}), 3, 'ignored')) as unknown[])[4]).toBe(`${CORRELATION_PREFIX}000000000003`);
  });

  it('writes a caller-given correlation id of any length and script, or nil without one', () => {
    for (const corr of ['', 'é', 'request-ü-🐍', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(300), 'z'.repeat(70_000)]) {
      expect((decode(encodeCompactCall(1, 'echo', argsInArray({}), 0, corr)) as unknown[])[4]).toBe(corr);
    }
    expect((decode(encodeCompactCall(1, 'echo', argsInArray({}), 0, undefined)) as unknown[])[4]).toBeNull();
  });

  it('writes tool names of any length and script, the same each time (cached)', () => {
    for (const tool of ['echo', 'outil_é', '道具', 't'.repeat(40), 'u'.repeat(300)]) {
      const first = encodeCompactCall(1, tool, argsInArray({}), 0, undefined);
      expect((decode(first) as unknown[])[2]).toBe(tool);
      expect(encodeCompactCall(1, tool, argsInArray({}), 0, undefined).equals(first)).toBe(true);
    }
  });

  it('is byte for byte what msgpack makes of the same array, but for the id and correlation id headers', () => {
    const args = { a: 1, b: 'two' };
    const byHand = encodeCompactCall(5, 'echo', argsInArray(args), 0, 'c');
    expect(byHand.subarray(7).equals(encode([COMPACT.call, 5, 'echo', args, 'c']).subarray(3))).toBe(true);
  });

  it('refuses args that are not a one-element array', () => {
    expect(() => encodeCompactCall(1, 'echo', encode({ a: 1 }), 0, undefined)).toThrow();
    expect(() => encodeCompactCallParts(1, 'echo', encode({ a: 1 }), 0, undefined)).toThrow();
  });

  it('msgpackStr picks the smallest str header', () => {
    expect(msgpackStr('abc')[0]).toBe(0xa3);
    expect(msgpackStr('x'.repeat(32))[0]).toBe(0xd9);
    expect(msgpackStr('x'.repeat(256))[0]).toBe(0xda);
    expect(msgpackStr('x'.repeat(65_536))[0]).toBe(0xdb);
    expect(decode(msgpackStr(newCorrelationId()))).toMatch(new RegExp(`^${CORRELATION_PREFIX}`));
  });
});

describe('encodeCompactCallParts', () => {
  it.each([
    ['a small id, a made correlation id', 1, 77, undefined],
    ['an id past 2^32, a given correlation id', 2 ** 32 + 7, 0, 'c-1'],
    ['no correlation id', 3, 0, undefined],
    ['a made id past 12 hex digits', 4, 16 ** 12, undefined],
  ])('%s: its parts make the same bytes as the frame in one piece', (_what, id, seq, corr) => {
    const args = argsInArray({ value: Buffer.alloc(COMPACT_ARGS_COPY_LIMIT + 1, 5), tag: 'é' });
    const parts = encodeCompactCallParts(id, 'echo', args, seq, corr);
    expect(parts).toHaveLength(3);
    expect(Buffer.concat(parts).equals(encodeCompactCall(id, 'echo', args, seq, corr))).toBe(true);
    // The args are not copied: the middle part is a view of their buffer.
    expect(parts[1]!.buffer).toBe(args.buffer);
    expect(parts[1]!.byteOffset).toBe(args.byteOffset + 1);
  });
});

describe('CompactCall', () => {
  it('writes its body at an offset, from args anywhere in a buffer, `length` bytes long', () => {
    for (const args of [{}, { value: 'x' }, { big: 'y'.repeat(1000), list: [1, 2, 3] }]) {
      const packed = argsInArray(args);
      const holder = Buffer.concat([Buffer.alloc(5, 0xee), packed, Buffer.alloc(3, 0xee)]);
      const call = new CompactCall(77, 'echo', holder, 5, 5 + packed.length, 12, undefined);
      const out = Buffer.alloc(call.length + 10, 0xaa);
      expect(call.writeTo(out, 4)).toBe(4 + call.length);
      expect(out.subarray(4, 4 + call.length).equals(encodeCompactCall(77, 'echo', packed, 12, undefined))).toBe(true);
      expect(out.subarray(0, 4).every((b) => b === 0xaa) && out.subarray(4 + call.length).every((b) => b === 0xaa)).toBe(true);
    }
  });

  it('refuses args that are not a one-element array', () => {
    const packed = encode({ a: 1 });
    expect(() => new CompactCall(1, 'echo', packed, 0, packed.length, 0, undefined)).toThrow();
  });
});

describe('packInPlace', () => {
  it("leaves the bytes where the encoder wrote them, unchanged by later encodes (a compact call reads them when its tick's frames are written)", () => {
    const args = { value: 'x', n: [1, 2, 3] };
    const packed = packInPlace([args], 0);
    const { start, end } = packed;
    const copy = Buffer.from(packed.subarray(start, end));
    expect(decode(copy)).toEqual([args]);
    // Enough later encodes to fill the encoder's buffer several times over.
    for (let i = 0; i < 2_000; i++) encode({ i, pad: 'z'.repeat(50) });
    packInPlace([{ other: 'y'.repeat(9_000) }], 0);
    expect(packed.subarray(start, end).equals(copy)).toBe(true);
  });

  it('throws invalid_args naming the path inside the args, as encodePayload does', () => {
    expect(() => packInPlace([{ ok: 1, f: () => 1 }], 0)).toThrow(expect.objectContaining({ code: 'invalid_args', details: expect.objectContaining({ path: 'f' }) }));
  });
});
