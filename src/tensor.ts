/** A numpy array on the JS side: dtype, shape and a typed-array view over the received bytes. */

/** numpy dtype names Snakepit carries without per-element conversion. */
export type TensorDType =
  | 'float16' | 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool';

// Node 20 has no Float16Array: float16 data is the raw IEEE half bits in a Uint16Array.
type TypedArrayFor = {
  float16: Uint16Array; float32: Float32Array; float64: Float64Array; int8: Int8Array; int16: Int16Array; int32: Int32Array;
  int64: BigInt64Array; uint8: Uint8Array; uint16: Uint16Array; uint32: Uint32Array; uint64: BigUint64Array;
  bool: Uint8Array;
};

/** Any typed array a tensor can hold. */
export type TensorData = TypedArrayFor[TensorDType];

const CONSTRUCTORS = {
  float16: Uint16Array, float32: Float32Array, float64: Float64Array, int8: Int8Array, int16: Int16Array, int32: Int32Array,
  int64: BigInt64Array, uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array,
  bool: Uint8Array,
} as const;

/** Memory layout of a tensor's data: row-major (C, numpy's default) or column-major (Fortran). */
export type TensorOrder = 'C' | 'F';

/**
 * An n-dimensional array exchanged with Python as `numpy.ndarray` (little-endian). `data` holds the
 * elements in `order` (default `'C'`); a Fortran-ordered numpy array arrives with `order: 'F'` and
 * its memory as it was, so nothing is reordered on either side.
 * @example new Tensor('float32', [2, 2], new Float32Array([1, 2, 3, 4]))
 */
export class Tensor<D extends TensorDType = TensorDType> {
  constructor(
    readonly dtype: D,
    readonly shape: readonly number[],
    readonly data: TypedArrayFor[D],
    readonly order: TensorOrder = 'C',
  ) {
    const expected = shape.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new RangeError(`Tensor data has ${data.length} elements, shape [${shape.join(', ')}] needs ${expected}`);
    }
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Raw bytes of the data (a view, not a copy). */
  get bytes(): Uint8Array {
    return new Uint8Array(this.data.buffer, this.data.byteOffset, this.data.byteLength);
  }

  /**
   * Wraps received bytes as a tensor without touching elements. The bytes are copied once
   * (a memcpy) only when their offset is not aligned to the element size, as typed arrays require.
   */
  static fromBytes(dtype: TensorDType, shape: readonly number[], bytes: Uint8Array, order: TensorOrder = 'C'): Tensor {
    const Ctor = CONSTRUCTORS[dtype];
    if (!Ctor) throw new TypeError(`Unsupported tensor dtype: ${String(dtype)}`);
    const width = Ctor.BYTES_PER_ELEMENT;
    let source = bytes;
    if (source.byteOffset % width !== 0) source = new Uint8Array(source);
    const data = new Ctor(source.buffer as ArrayBuffer, source.byteOffset, source.byteLength / width);
    return new Tensor(dtype, shape, data as TypedArrayFor[typeof dtype], order);
  }

  /**
   * Plain nested arrays in logical (row-major) order, whatever `order` is (does per-element work:
   * for display and tests, not hot paths). float16 gives the raw half bits.
   */
  toArray(): unknown[] {
    const flat = Array.from(this.data as ArrayLike<number | bigint>);
    const dims = this.shape.length;
    // Element strides of each dimension in `data`: row-major for C, column-major for F.
    const strides = this.shape.map((_, d) =>
      this.order === 'F' ? this.shape.slice(0, d).reduce((a, b) => a * b, 1) : this.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    const build = (dim: number, offset: number): unknown[] =>
      Array.from({ length: this.shape[dim] ?? 0 }, (_, i) =>
        dim === dims - 1 ? flat[offset + i * strides[dim]!] : build(dim + 1, offset + i * strides[dim]!));
    return dims === 0 ? flat : build(0, 0);
  }
}
