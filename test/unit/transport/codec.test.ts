import { unpack, unpackMultiple } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decode, decodeRange, encode, TENSOR_EXT_TYPE } from '../../../src/transport/codec.js';
import { Tensor, type TensorData, type TensorDType } from '../../../src/tensor.js';

const roundTrip = (value: unknown): unknown => decode(encode(value));

/** The ext type and payload of a msgpack ext value at the start of `bytes`. */
function readExt(bytes: Uint8Array): { type: number; payload: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const marker = bytes[0];
  const fixed: Record<number, number> = { 0xd4: 1, 0xd5: 2, 0xd6: 4, 0xd7: 8, 0xd8: 16 };
  let length: number;
  let header: number;
  if (marker !== undefined && marker in fixed) [length, header] = [fixed[marker] as number, 1];
  else if (marker === 0xc7) [length, header] = [view.getUint8(1), 2];
  else if (marker === 0xc8) [length, header] = [view.getUint16(1), 3];
  else if (marker === 0xc9) [length, header] = [view.getUint32(1), 5];
  else throw new Error(`not an ext value: 0x${marker?.toString(16)}`);
  expect(bytes.length).toBe(header + 1 + length);
  return { type: view.getInt8(header), payload: bytes.subarray(header + 1) };
}

describe('scalar round trips', () => {
  it.each([
    ['zero', 0],
    ['positive fixint', 127],
    ['uint8', 128],
    ['negative fixint', -32],
    ['int8', -33],
    ['uint16', 65_535],
    ['uint32', 2 ** 32 - 1],
    ['int32 min', -(2 ** 31)],
    ['above uint32', 2 ** 32],
    ['max safe integer', Number.MAX_SAFE_INTEGER],
    ['min safe integer', Number.MIN_SAFE_INTEGER],
    ['float', 1.5],
    ['negative float', -0.25],
    ['pi', Math.PI],
    ['tiny float', 5e-324],
    ['huge float', 1e300],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['NaN', NaN],
    ['empty string', ''],
    ['ascii string', 'hello'],
    ['unicode string', 'héllo ✓ 🐍'],
    ['long string', 'x'.repeat(70_000)],
    ['true', true],
    ['false', false],
    ['null', null],
  ])('%s', (_label, value) => {
    expect(roundTrip(value)).toStrictEqual(value);
  });

  it('keeps integral numbers as numbers', () => {
    expect(typeof roundTrip(2 ** 40)).toBe('number');
  });
});

describe('containers', () => {
  it.each([
    ['empty map', {}],
    ['empty array', []],
    ['flat map', { a: 1, b: 'two', c: null, d: false }],
    ['array of mixed values', [1, 'a', 2.5, true, null]],
    ['nested maps and arrays', { a: { b: [1, { c: [2, [3, { d: 'e' }]] }] }, f: [[], {}] }],
    ['array of maps', [{ x: 1 }, { x: 2 }]],
    ['unicode keys', { 'ключ': 1, '🐍': [2] }],
  ])('%s', (_label, value) => {
    expect(roundTrip(value)).toStrictEqual(value);
  });

  it('decodes maps as plain objects', () => {
    const decoded = roundTrip({ a: { b: 1 } });
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });

  it('encodes a Map like a plain object', () => {
    expect(roundTrip(new Map<string, unknown>([['a', 1], ['b', [2]]]))).toStrictEqual({ a: 1, b: [2] });
  });
});

describe('undefined', () => {
  it.each([
    ['at the top level', undefined, null],
    ['in a map', { a: undefined, b: 1 }, { a: null, b: 1 }],
    ['in an array', [undefined, 1], [null, 1]],
  ])('becomes null %s', (_label, value, expected) => {
    expect(roundTrip(value)).toStrictEqual(expected);
  });
});

describe('bigint', () => {
  it.each([
    ['2^53 + 1', 2n ** 53n + 1n],
    ['-(2^53) - 1', -(2n ** 53n) - 1n],
    ['int64 max', 2n ** 63n - 1n],
    ['int64 min', -(2n ** 63n)],
    ['2^63 (uint64 only)', 2n ** 63n],
    ['uint64 max', 2n ** 64n - 1n],
  ])('%s fits 64 bits and round-trips as bigint', (_label, value) => {
    const bytes = encode(value);
    expect(bytes[0] === 0xd3 || bytes[0] === 0xcf).toBe(true); // int64 / uint64
    expect(decode(bytes)).toBe(value);
  });

  it.each([
    ['2^64', 2n ** 64n],
    ['-(2^63) - 1', -(2n ** 63n) - 1n],
    ['2^100', 2n ** 100n],
    ['-(2^100)', -(2n ** 100n)],
    ['2^200 + 12345', 2n ** 200n + 12_345n],
  ])('%s goes as ext 0x42 (signed big-endian two\'s complement) and round-trips', (_label, value) => {
    const bytes = encode(value);
    const { type, payload } = readExt(bytes);
    expect(type).toBe(0x42);
    const unsigned = BigInt(`0x${Buffer.from(payload).toString('hex')}`);
    expect(BigInt.asIntN(payload.length * 8, unsigned)).toBe(value);
    expect(decode(bytes)).toBe(value);
  });

  it.each([
    [0n, 0],
    [5n, 5],
    [-5n, -5],
    [2n ** 53n, 2 ** 53],
  ])('%s within ±2^53 decodes as the number %d', (value, expected) => {
    expect(roundTrip(value)).toBe(expected);
  });

  it('round-trips inside containers', () => {
    const value = { big: 2n ** 70n, list: [2n ** 64n - 1n, -(2n ** 80n)] };
    expect(roundTrip(value)).toStrictEqual(value);
  });
});

describe('binary', () => {
  it.each([
    ['Buffer', Buffer.from([1, 2, 3, 255])],
    ['Uint8Array', new Uint8Array([0, 128, 255])],
    ['empty Uint8Array', new Uint8Array(0)],
    ['large Uint8Array', new Uint8Array(70_000).fill(9)],
    ['Uint8Array view at an offset', new Uint8Array([9, 9, 1, 2, 3, 9]).subarray(2, 5)],
  ])('%s decodes to a Uint8Array with the same bytes', (_label, value) => {
    const decoded = roundTrip(value);
    expect(decoded).toBeInstanceOf(Uint8Array);
    expect(Array.from(decoded as Uint8Array)).toEqual(Array.from(value));
  });
});

/** One tensor per dtype: [dtype, shape, data, typed array class]. */
const TENSORS: [TensorDType, number[], TensorData, new (n: number) => TensorData][] = [
  ['float32', [2, 2], new Float32Array([1.5, -2, 3.25, 4]), Float32Array],
  ['float64', [3], new Float64Array([Math.PI, -1e300, 0]), Float64Array],
  ['int8', [4], new Int8Array([-128, -1, 0, 127]), Int8Array],
  ['int16', [2, 1], new Int16Array([-32_768, 32_767]), Int16Array],
  ['int32', [1, 3], new Int32Array([-(2 ** 31), 0, 2 ** 31 - 1]), Int32Array],
  ['int64', [2], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]), BigInt64Array],
  ['uint8', [2, 3], new Uint8Array([0, 1, 2, 3, 4, 255]), Uint8Array],
  ['uint16', [2], new Uint16Array([0, 65_535]), Uint16Array],
  ['uint32', [2], new Uint32Array([0, 2 ** 32 - 1]), Uint32Array],
  ['uint64', [1], new BigUint64Array([2n ** 64n - 1n]), BigUint64Array],
  ['bool', [3], new Uint8Array([1, 0, 1]), Uint8Array],
  ['float32', [0], new Float32Array(0), Float32Array],
  ['float64', [2, 0, 3], new Float64Array(0), Float64Array],
  ['int32', [], new Int32Array([42]), Int32Array],
];

describe('Tensor round trips', () => {
  it.each(TENSORS)('%s %j', (dtype, shape, data, Ctor) => {
    const decoded = roundTrip(new Tensor(dtype, shape, data));
    expect(decoded).toBeInstanceOf(Tensor);
    const t = decoded as Tensor;
    expect(t.dtype).toBe(dtype);
    expect(t.shape).toEqual(shape);
    expect(t.data).toBeInstanceOf(Ctor);
    expect(Array.from(t.data as ArrayLike<unknown>)).toEqual(Array.from(data as ArrayLike<unknown>));
  });

  it('round-trips a tensor nested in a map', () => {
    const t = new Tensor('int16', [3], new Int16Array([1, -2, 3]));
    const decoded = roundTrip({ name: 'x', tensors: [t] }) as { name: string; tensors: Tensor[] };
    expect(decoded.name).toBe('x');
    expect(decoded.tensors[0]?.toArray()).toEqual([1, -2, 3]);
  });

  it('encodes a tensor whose data is a view into a larger buffer as just its elements', () => {
    const backing = new Float64Array([9, 1, 2, 3, 9]);
    const t = new Tensor('float64', [3], backing.subarray(1, 4));
    const decoded = roundTrip(t) as Tensor;
    expect(Array.from(decoded.data as Float64Array)).toEqual([1, 2, 3]);
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7])('decodes correctly when the frame starts at byte offset %i of its buffer', (offset) => {
    // Frames are subarrays of socket chunks, so the tensor bytes land at any alignment.
    const body = encode({ t: new Tensor('float64', [3], new Float64Array([1.5, -2, 1e10])) });
    const backing = new Uint8Array(offset + body.length);
    backing.set(body, offset);
    const t = (decode(backing.subarray(offset)) as { t: Tensor }).t;
    expect(t.data).toBeInstanceOf(Float64Array);
    expect(t.data.byteOffset % Float64Array.BYTES_PER_ELEMENT).toBe(0);
    expect(Array.from(t.data as Float64Array)).toEqual([1.5, -2, 1e10]);
  });
});

describe('Tensor wire format', () => {
  it('uses ext type 2', () => {
    expect(TENSOR_EXT_TYPE).toBe(2);
  });

  it.each([
    ['float32', [2, 2], new Float32Array([1, 2, 3, 4])],
    ['int64', [3], new BigInt64Array([1n, -2n, 3n])],
    ['uint8', [2, 150], new Uint8Array(300).fill(7)], // payload > 255 bytes: ext 16
    ['bool', [], new Uint8Array([1])],
  ] as [TensorDType, number[], TensorData][])('%s %j is ext 2 whose payload is self-contained msgpack [dtype, shape, bytes]', (dtype, shape, data) => {
    const t = new Tensor(dtype, shape, data);
    const { type, payload } = readExt(encode(t));
    expect(type).toBe(TENSOR_EXT_TYPE);
    // Exactly one msgpack value fills the payload, readable by a plain decoder (as Python's ExtType needs).
    expect(unpackMultiple(payload)).toHaveLength(1);
    const [wireDtype, wireShape, wireBytes] = unpack(payload) as [unknown, unknown, unknown];
    expect(wireDtype).toBe(dtype);
    expect(wireShape).toEqual(shape);
    expect(wireBytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(wireBytes as Uint8Array).equals(Buffer.from(t.bytes))).toBe(true);
  });

  it('writes the data little-endian', () => {
    const { payload } = readExt(encode(new Tensor('int32', [1], new Int32Array([0x01020304]))));
    const [, , bytes] = unpack(payload) as [string, number[], Uint8Array];
    expect(Array.from(bytes)).toEqual([4, 3, 2, 1]);
  });
});

describe('decodeRange', () => {
  const values: unknown[] = [{ a: 1, b: ['x', 2.5, null] }, 'é'.repeat(40), [1, 'two', { three: Buffer.from([3]) }], 2 ** 40, new Tensor('float32', [2], new Float32Array([1, 2]))];

  it('decodes a body in the middle of a buffer as decode does its own view', () => {
    const bodies = values.map((v) => encode(v));
    const joined = Buffer.concat([Buffer.from([0xc1, 0xc1]), ...bodies, Buffer.from([0xc1])]);
    let at = 2;
    for (const body of bodies) {
      expect(decodeRange(joined, at, at + body.length)).toEqual(decode(body));
      at += body.length;
    }
  });

  it('throws for a body that ends early or runs past its end, and for an empty one, wherever it sits', () => {
    const body = encode({ a: 1, list: [1, 2, 3] });
    const joined = Buffer.concat([body, body]);
    expect(() => decodeRange(joined, 0, body.length - 1)).toThrow();
    expect(() => decodeRange(Buffer.concat([body, Buffer.from([1])]), 0, body.length + 1)).toThrow();
    expect(() => decodeRange(joined, 0, 0)).toThrow();
    expect(() => decodeRange(joined, 3, 3)).toThrow();
    // The same buffer still decodes after a failure.
    expect(decodeRange(joined, body.length, 2 * body.length)).toEqual({ a: 1, list: [1, 2, 3] });
  });
});
