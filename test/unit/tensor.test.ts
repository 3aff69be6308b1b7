import { describe, expect, it } from 'vitest';
import { Tensor, type TensorData, type TensorDType } from '../../src/tensor.js';

describe('new Tensor', () => {
  it.each([
    [[2, 2], 3],
    [[2, 2], 5],
    [[], 0],
    [[], 2],
    [[0], 1],
    [[2, 3], 5],
    [[4], 0],
  ])('rejects shape %j with %i elements', (shape, n) => {
    expect(() => new Tensor('float32', shape, new Float32Array(n))).toThrow(RangeError);
  });

  it.each([
    [[2, 2], 4],
    [[], 1],
    [[0], 0],
    [[3, 0], 0],
    [[2, 3, 4], 24],
  ])('accepts shape %j with %i elements', (shape, n) => {
    const t = new Tensor('float32', shape, new Float32Array(n));
    expect(t.size).toBe(n);
    expect(t.shape).toEqual(shape);
  });

  it('exposes the raw bytes as a view, not a copy', () => {
    const data = new Uint16Array([1, 2, 3]);
    const t = new Tensor('uint16', [3], data);
    expect(t.bytes.buffer).toBe(data.buffer);
    expect(t.bytes.byteLength).toBe(6);
    data[0] = 0x0102;
    expect(Array.from(t.bytes.subarray(0, 2))).toEqual([2, 1]);
  });

  it('exposes only the bytes of a subarray', () => {
    const backing = new Int32Array([7, 8, 9, 10]);
    const t = new Tensor('int32', [2], backing.subarray(1, 3));
    expect(t.bytes.byteOffset).toBe(4);
    expect(t.bytes.byteLength).toBe(8);
  });
});

describe('Tensor.fromBytes', () => {
  it.each([
    ['float32', new Float32Array([1.5, -2, 3])],
    ['float64', new Float64Array([Math.PI, -1, 0])],
    ['int16', new Int16Array([-1, 2, -3])],
    ['int32', new Int32Array([-1, 2, -3])],
    ['uint32', new Uint32Array([1, 2, 2 ** 32 - 1])],
    ['int64', new BigInt64Array([-1n, 2n, -(2n ** 63n)])],
    ['uint64', new BigUint64Array([1n, 2n, 2n ** 64n - 1n])],
  ] as [TensorDType, TensorData][])('%s at every byte offset yields a correct typed array', (dtype, data) => {
    const source = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const values = Array.from(data as ArrayLike<unknown>);
    for (let offset = 0; offset < 8; offset++) {
      const backing = new Uint8Array(offset + source.length + 3);
      backing.set(source, offset);
      const t = Tensor.fromBytes(dtype, [3], backing.subarray(offset, offset + source.length));
      expect(t.data.constructor, `offset ${offset}`).toBe(data.constructor);
      expect(t.data.byteOffset % data.BYTES_PER_ELEMENT).toBe(0);
      expect(Array.from(t.data as ArrayLike<unknown>), `offset ${offset}`).toEqual(values);
    }
  });

  it('wraps aligned bytes without copying', () => {
    const bytes = new Uint8Array(new Float32Array([1, 2]).buffer);
    const t = Tensor.fromBytes('float32', [2], bytes);
    expect(t.data.buffer).toBe(bytes.buffer);
  });

  it('rejects bytes that do not fill the shape', () => {
    expect(() => Tensor.fromBytes('float32', [3], new Uint8Array(8))).toThrow(RangeError);
  });

  it('rejects an unknown dtype', () => {
    expect(() => Tensor.fromBytes('complex64' as TensorDType, [1], new Uint8Array(8))).toThrow(TypeError);
  });
});

describe('Tensor.toArray', () => {
  it.each([
    ['2-D', [2, 3], [1, 2, 3, 4, 5, 6], [[1, 2, 3], [4, 5, 6]]],
    ['2-D column', [3, 1], [1, 2, 3], [[1], [2], [3]]],
    ['1-D', [3], [1, 2, 3], [1, 2, 3]],
    ['3-D', [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8], [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]],
    ['0-D', [], [42], [42]],
    ['2-D with an empty axis', [2, 0], [], [[], []]],
  ])('%s %j', (_label, shape, values, expected) => {
    expect(new Tensor('float64', shape, new Float64Array(values)).toArray()).toEqual(expected);
  });

  it('keeps bigint elements for 64-bit integer dtypes', () => {
    expect(new Tensor('int64', [2, 1], new BigInt64Array([1n, -2n])).toArray()).toEqual([[1n], [-2n]]);
  });
});
