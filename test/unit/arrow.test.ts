// Arrow values in the codec (ext 4) and the absence of the optional apache-arrow package.
import { tableFromArrays, Table } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { ArrowIPC, ArrowUnavailableError, setArrowLoader } from '../../src/arrow.js';
import { ValidationError } from '../../src/errors.js';
import { ARROW_EXT_TYPE, decode, encode } from '../../src/transport/codec.js';

afterEach(() => setArrowLoader(undefined));

describe('arrow codec', () => {
  it('round-trips a Table as ext 4 (IPC stream bytes)', () => {
    const t = tableFromArrays({ i: new BigInt64Array([1n, 2n]), f: new Float64Array([0.5, 1.5]), s: ['a', 'b'] });
    const body = encode({ t });
    expect(body.includes(ARROW_EXT_TYPE)).toBe(true);
    const back = (decode(body) as { t: Table }).t;
    expect(back).toBeInstanceOf(Table);
    expect(back.toArray().map((r) => r.toJSON())).toEqual([{ i: 1n, f: 0.5, s: 'a' }, { i: 2n, f: 1.5, s: 'b' }]);
  });

  it('sends a RecordBatch as a one-batch table', () => {
    const t = tableFromArrays({ x: new Int32Array([7, 8, 9]) });
    const back = decode(encode(t.batches[0])) as Table;
    expect(back.numRows).toBe(3);
    expect([...back.getChild('x')!]).toEqual([7, 8, 9]);
  });

  it('without apache-arrow: encoding throws arrow_unavailable, decoding keeps the bytes', () => {
    const body = encode(tableFromArrays({ x: new Int32Array([1]) }));
    setArrowLoader(() => {
      throw new Error("Cannot find package 'apache-arrow'");
    });
    const held = decode(body);
    expect(held).toBeInstanceOf(ArrowIPC);
    let err: unknown;
    try {
      (held as ArrowIPC).table();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArrowUnavailableError);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ArrowUnavailableError).code).toBe('arrow_unavailable');
    expect((err as Error).message).toContain('npm install apache-arrow');
    expect(() => encode(tableFromArrays({ x: new Int32Array([1]) }))).toThrow(/apache-arrow/);
  });
});
