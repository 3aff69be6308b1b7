// copyFields: a spread's copy, built from {} so that fields added afterwards stay cheap on Node 20.
import { describe, expect, it } from 'vitest';
import { copyFields } from '../../src/object-copy.js';

describe('copyFields', () => {
  it("copies own enumerable string keys into a fresh object, as a spread does, leaving out `skip`", () => {
    const proto = { inherited: 1 };
    const source = Object.assign(Object.create(proto) as Record<string, unknown>, { a: 1, b: { nested: true }, c: 'x' });
    Object.defineProperty(source, 'hidden', { value: 2, enumerable: false });
    const copy = copyFields(source, 'c');
    expect(copy).toEqual({ a: 1, b: { nested: true } });
    expect(Object.keys(copy)).toEqual(['a', 'b']);
    expect(copy).not.toBe(source);
    expect(copy.b).toBe(source.b); // shallow, like a spread
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    copy.added = true;
    expect(source.added).toBeUndefined();
  });

  it('gives {} for null and undefined', () => {
    expect(copyFields(null)).toEqual({});
    expect(copyFields(undefined)).toEqual({});
  });

  it('keeps a __proto__ key as a plain field, not as the prototype', () => {
    const source = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = copyFields(source);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect((copy as { polluted?: boolean }).polluted).toBeUndefined();
    expect(copy).toEqual({ ...source });
  });
});
