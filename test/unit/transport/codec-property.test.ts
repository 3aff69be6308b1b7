// Property tests of the value codec (docs/protocol.md, "Value mapping"): decode(encode(v)) is v,
// up to the documented mapping, for arbitrary JSON-like values, binaries, bigints and tensors; and the
// same through Python's serializer (Node -> Python -> Node).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decode, encode, TENSOR_EXT_TYPE } from '../../../src/transport/codec.js';
import { Tensor, type TensorDType } from '../../../src/tensor.js';

const TWO_53 = 2n ** 53n;

/** Every dtype the Tensor class supports (src/tensor.ts) and its element width. */
const DTYPES: Record<TensorDType, number> = {
  float16: 2, float32: 4, float64: 8, int8: 1, int16: 2, int32: 4, int64: 8,
  uint8: 1, uint16: 2, uint32: 4, uint64: 8, bool: 1,
};

/**
 * What a value is expected to look like after a round trip (the documented mapping):
 * - `undefined` -> null (also inside arrays and as a map value);
 * - integral numbers go as msgpack ints, so -0 comes back as 0 (an int has no sign bit);
 *   every other number (NaN, ±Infinity, non-integral, integral beyond 2^53) comes back as itself;
 * - bigints within ±2^53 come back as numbers, larger ones as bigints of the same value;
 * - `Uint8Array`/`Buffer` -> the same bytes (a Buffer);
 * - a Tensor -> a Tensor of the same dtype, shape, order and bytes.
 */
function expected(v: unknown, logical = false): unknown {
  if (v === undefined) return null;
  if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
  if (typeof v === 'bigint') return v >= -TWO_53 && v <= TWO_53 ? Number(v) : v;
  if (v instanceof Tensor) return tensorView(v, logical);
  if (v instanceof Uint8Array) return { bin: Buffer.from(v) };
  if (Array.isArray(v)) return v.map((x) => expected(x, logical));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expected(x, logical)]));
  return v;
}

/**
 * A tensor's identity: on the host, dtype, shape, order and exact bytes. Through numpy, an array whose
 * memory is both C- and F-contiguous (a dimension of size <= 1, or no elements) may change its order
 * flag, which changes nothing: there `logical` compares dtype, shape and the elements in logical order.
 */
function tensorView(t: Tensor, logical: boolean): unknown {
  if (!logical) return { tensor: t.dtype, shape: [...t.shape], order: t.order, bytes: Buffer.from(t.bytes) };
  return { tensor: t.dtype, shape: [...t.shape], elements: t.toArray() };
}

/** A comparable view of a decoded value: binaries and tensors as tagged plain objects. */
function view(v: unknown, logical = false): unknown {
  if (v instanceof Tensor) return tensorView(v, logical);
  if (v instanceof Uint8Array) return { bin: Buffer.from(v) };
  if (Array.isArray(v)) return v.map((x) => view(x, logical));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, view(x, logical)]));
  return v;
}

/** Strict equality of the views: Object.is for numbers (NaN equals NaN, -0 differs from 0), bigint type kept. */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number' || typeof a === 'bigint') return Object.is(a, b);
  if (Buffer.isBuffer(a)) return Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a && typeof a === 'object') {
    if (!b || typeof b !== 'object' || Array.isArray(b) || Buffer.isBuffer(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameValue((a as never)[k], (b as never)[k]));
  }
  return Object.is(a, b);
}

const arbTensor = (orders: readonly ('C' | 'F')[] = ['C', 'F']): fc.Arbitrary<Tensor> =>
  fc
    .record({
      dtype: fc.constantFrom(...(Object.keys(DTYPES) as TensorDType[])),
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
      order: fc.constantFrom(...orders),
      seed: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    })
    .map(({ dtype, shape, order, seed }) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const bytes = new Uint8Array(size * DTYPES[dtype]).map((_, i) => (dtype === 'bool' ? seed[i % seed.length]! & 1 : seed[i % seed.length]!));
      return Tensor.fromBytes(dtype, shape, bytes, order);
    });

// Keys: any valid Unicode (no lone surrogates, which JS strings allow but UTF-8 cannot carry) except
// `__proto__` (see the known-issue test below).
const arbKey = fc.string({ unit: 'binary', maxLength: 8 }).filter((k) => k !== '__proto__');
const arbString = fc.string({ unit: 'binary', maxLength: 32 });

const arbScalar = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  arbString,
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(), // includes NaN, ±Infinity, -0, integral doubles beyond 2^53
  fc.bigInt(), // any size
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
  fc.uint8Array({ maxLength: 64 }),
  arbTensor(),
);

const { value: arbValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    arbScalar,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(arbKey, tie('value'), { maxKeys: 5 }),
  ),
}));

describe('codec round trip (host only)', () => {
  it('decode(encode(v)) equals v up to the documented mapping', () => {
    fc.assert(
      fc.property(arbValue, (v) => {
        const back = decode(encode(v));
        expect(sameValue(view(back), expected(v))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('bigints of any size keep their value; within ±2^53 they come back as numbers', () => {
    fc.assert(
      fc.property(fc.oneof(fc.bigInt(), fc.bigInt({ min: -(2n ** 2048n), max: 2n ** 2048n })), (b) => {
        const back = decode(encode(b));
        if (b >= -TWO_53 && b <= TWO_53) expect(back).toBe(Number(b));
        else expect(back).toBe(b);
      }),
      { numRuns: 300 },
    );
  });

  it('every tensor dtype round trips with its shape and exact bytes', () => {
    fc.assert(
      fc.property(arbTensor(), (t) => {
        const back = decode(encode({ t })) as { t: Tensor };
        expect(back.t).toBeInstanceOf(Tensor);
        expect(view(back.t)).toEqual(expected(t));
      }),
      { numRuns: 200 },
    );
  });

  it('a 4-element tensor payload as Python sends it (order "F") decodes as a Fortran-ordered tensor', () => {
    const payload = new Packr({ useRecords: false }).pack(['int32', [2, 3], Buffer.from(new Int32Array([1, 4, 2, 5, 3, 6]).buffer), 'F']);
    const ext = Buffer.concat([Buffer.from([0xc7, payload.length, TENSOR_EXT_TYPE]), payload]);
    const back = decode(ext) as Tensor;
    expect(back.order).toBe('F');
    expect(back.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  // Known issue (reported; codec.ts is not ours to change): msgpackr renames an own `__proto__` key to `__proto_` when decoding (its guard
  // against prototype pollution), so `JSON.parse('{"__proto__": 1}')` or a Python dict with that key
  // does not survive the trip.
  it.fails('KNOWN ISSUE: an own "__proto__" key survives the round trip', () => {
    const v = JSON.parse('{"__proto__": 1}') as object;
    expect(Object.keys(decode(encode(v)) as object)).toEqual(['__proto__']);
  });
});

const PYTHON = path.resolve('.venv/bin/python');

/** Node -> Python (unpack, pack) -> Node, for a batch of values in one interpreter. */
function throughPython(values: unknown[]): unknown[] {
  const script = [
    'import sys',
    'from snakepit_bridge.serialization import pack, unpack',
    'data = sys.stdin.buffer.read()',
    'out, pos = [], 0',
    'while pos < len(data):',
    '    n = int.from_bytes(data[pos:pos + 4], "big")',
    '    body = pack(unpack(data[pos + 4:pos + 4 + n]))',
    '    out.append(len(body).to_bytes(4, "big") + body)',
    '    pos += 4 + n',
    'sys.stdout.buffer.write(b"".join(out))',
  ].join('\n');
  const input = Buffer.concat(
    values.flatMap((v) => {
      const body = encode(v);
      const header = Buffer.alloc(4);
      header.writeUInt32BE(body.length);
      return [header, body];
    }),
  );
  const out = execFileSync(PYTHON, ['-c', script], { input, env: { ...process.env, PYTHONPATH: path.resolve('python') }, maxBuffer: 64 << 20 });
  const back: unknown[] = [];
  for (let pos = 0; pos < out.length; ) {
    const n = out.readUInt32BE(pos);
    back.push(decode(out.subarray(pos + 4, pos + 4 + n)));
    pos += 4 + n;
  }
  return back;
}

describe.runIf(existsSync(PYTHON))('codec round trip through Python', () => {
  it('Node -> Python -> Node is identity up to the mapping (one batch of generated values)', () => {
    // One interpreter for the whole batch keeps this fast; fc.sample is seeded per run like fc.assert.
    const values = fc.sample(arbValue, { numRuns: 300 });
    const back = throughPython(values);
    expect(back).toHaveLength(values.length);
    const mismatches = values.flatMap((v, i) => (sameValue(view(back[i], true), expected(v, true)) ? [] : [{ sent: v, got: back[i] }]));
    expect(mismatches).toEqual([]);
  });
});
