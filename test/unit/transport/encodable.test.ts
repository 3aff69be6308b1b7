// Values that cannot cross the wire fail typed (invalid_args) naming where they sit; the depth scan matches a full walk.
import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { Tensor } from '../../../src/tensor.js';
import { encode, encodePayload } from '../../../src/transport/codec.js';
import { callArgsError, findUnencodable, MAX_NESTING_DEPTH, nestsDeeperThan } from '../../../src/transport/encodable.js';
import { instanceOf, thrown } from '../../helpers/thrown.js';

/** `depth` nested arrays around `leaf`: [[[leaf]]]. */
function nested(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const errorOf = (fn: () => unknown): ValidationError => thrown<ValidationError>(fn, instanceOf(ValidationError));

const circular = () => {
  const message: Record<string, unknown> = { a: 1 };
  message.self = message;
  return { message };
};

describe('encode: values that cannot cross', () => {
  it.each<[string, () => unknown, string, string]>([
    ['a circular reference', circular, 'message.self', 'circular'],
    ['a cycle through an array', () => {
      const list: unknown[] = [1];
      list.push({ back: list });
      return { list };
    }, 'list[1].back', 'circular'],
    ['a Symbol', () => ({ x: { y: Symbol('s') } }), 'x.y', 'symbol'],
    ['a function (msgpackr would write null)', () => ({ cb: () => 1 }), 'cb', 'function'],
    ['a method-like property in an array', () => ({ items: [1, { f() {} }] }), 'items[1].f', 'function'],
    ['nesting past the JS stack', () => ({ deep: nested(200_000) }), `deep${'[0]'.repeat(MAX_NESTING_DEPTH - 1)}`, 'too_deep'],
    ['nesting just past Python\'s limit', () => ({ deep: nested(MAX_NESTING_DEPTH) }), `deep${'[0]'.repeat(MAX_NESTING_DEPTH - 1)}`, 'too_deep'],
  ])('%s: invalid_args at its path', (_label, make, path, reason) => {
    const error = errorOf(() => encode(make()));
    expect(error).toMatchObject({ code: 'invalid_args', category: 'validation', details: { path, reason } });
  });

  it("accepts the deepest nesting Python's msgpack reads", () => {
    // The root object is one level, the arrays the other 1023.
    expect(() => encode({ deep: nested(MAX_NESTING_DEPTH - 1) })).not.toThrow();
  });

  it('gives paths from the args when they sit inside a frame (the pipe)', () => {
    const frame = { t: 'call', id: 1, tool: 'echo', args: circular(), meta: null };
    const error = errorOf(() => encodePayload(frame, {}, 'args'));
    expect(error.details).toEqual({ path: 'message.self', reason: 'circular' });
  });

  it('leaves other failures alone and keeps encoding afterwards', () => {
    expect(() => encode({ t: new Tensor('float32', [2], new Float32Array([1, 2])), d: new Date(0), m: new Map([['k', 1]]) })).not.toThrow();
    errorOf(() => encode({ s: Symbol('x') }));
    expect(encode({ ok: true })).toEqual(pack({ ok: true }));
  });
});

describe('callArgsError: args are an object of named arguments', () => {
  it.each([
    [42, 'a number'],
    ['x', 'a string'],
    [null, 'null'],
    [[1, 2], 'an array'],
    [new Uint8Array(2), 'a typed array'],
    [true, 'a boolean'],
  ])('%j -> invalid_args', (args, got) => {
    expect(callArgsError('echo', args)).toMatchObject({ code: 'invalid_args', details: { tool: 'echo', reason: 'not_an_object', got } });
  });

  it.each([[{}], [{ a: 1 }], [Object.create(null)], [new Map()]])('%j is fine', (args) => {
    expect(callArgsError('echo', args)).toBeUndefined();
  });
});

describe('nestsDeeperThan: counts the levels msgpackr writes', () => {
  /** Non-empty containers on the deepest path of what was encoded, as Python's unpacker counts them. */
  function encodedDepth(value: unknown): number {
    const walk = (v: unknown): number => {
      if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return 0;
      const children = Array.isArray(v) ? v : Object.values(v);
      return children.length === 0 ? 0 : 1 + Math.max(...children.map(walk));
    };
    return walk(unpack(encode(value)));
  }

  const leaf = fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.string({ maxLength: 20 }), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 20 }));
  const tree = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('node'), { maxLength: 5 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 5 })),
  })).node;

  it('agrees with the encoded bytes for any value and limit', () => {
    fc.assert(
      fc.property(tree, fc.integer({ min: 0, max: 8 }), (value, limit) => {
        expect(nestsDeeperThan(value, limit)).toBe(encodedDepth(value) > limit);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['arrays', (inner: unknown) => [inner]],
    ['objects', (inner: unknown) => ({ k: inner })],
    ['Maps', (inner: unknown) => new Map([['k', inner]])],
  ])('at the limit, through %s', (_label, wrap) => {
    let value: unknown = 1;
    for (let i = 0; i < MAX_NESTING_DEPTH; i++) value = wrap(value);
    expect(nestsDeeperThan(value, MAX_NESTING_DEPTH)).toBe(false);
    expect(nestsDeeperThan(wrap(value), MAX_NESTING_DEPTH)).toBe(true);
    // Empty containers, typed arrays and extension values are leaves.
    expect(nestsDeeperThan(wrap([]), MAX_NESTING_DEPTH)).toBe(false);
    expect(nestsDeeperThan({ t: new Tensor('uint8', [1], new Uint8Array(1)), b: new Uint8Array(1) }, 1, (v) => v instanceof Tensor)).toBe(false);
  });

  it('findUnencodable finds nothing in an encodable value', () => {
    expect(findUnencodable({ a: [1, { b: 'c' }], d: new Uint8Array(3) })).toBeUndefined();
  });
});
