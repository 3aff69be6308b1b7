// What each Python type node becomes on the wire, per direction, as TypeScript text, and what the value checker accepts.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/tensor.js';
import { ValueChecker } from '../../../src/typed/check-value.js';
import type { TypeNode } from '../../../src/typed/type-spec.js';
import { WireMapper, type Direction } from '../../../src/typed/wire-type.js';
import { TsTypeWriter } from '../../../src/typegen/ts-type.js';

const INT: TypeNode = { kind: 'int' };
const STR: TypeNode = { kind: 'str' };

function ts(node: TypeNode, direction: Direction): string {
  return new TsTypeWriter(direction, { alias: (name) => name.slice(name.lastIndexOf('.') + 1) }).write(new WireMapper(direction).map(node));
}

describe('the wire mapping of types', () => {
  it.each<[string, TypeNode, string, string]>([
    ['str', STR, 'string', 'string'],
    ['int: number within 2^53, bigint beyond', INT, 'PyInt', 'PyInt'],
    ['float', { kind: 'float' }, 'number', 'number'],
    ['bool', { kind: 'bool' }, 'boolean', 'boolean'],
    ['bytes (or shared memory)', { kind: 'bytes' }, 'Uint8Array | ZeroCopyRef', 'Uint8Array'],
    ['None', { kind: 'none' }, 'null', 'null'],
    ['Any', { kind: 'any' }, 'unknown', 'unknown'],
    ['list', { kind: 'list', items: INT }, 'readonly PyInt[]', 'PyInt[]'],
    ['set: an array', { kind: 'set', items: STR }, 'readonly string[]', 'string[]'],
    ['tuple', { kind: 'tuple', items: [INT, STR] }, 'readonly [PyInt, string]', '[PyInt, string]'],
    ['dict', { kind: 'dict', keys: STR, values: INT }, '{ [key: string]: PyInt }', '{ [key: string]: PyInt }'],
    ['dict with int keys: string keys', { kind: 'dict', keys: INT, values: INT }, '{ [key: string]: PyInt } /* map keys go as strings */', '{ [key: string]: PyInt } /* map keys go as strings */'],
    ['Optional', { kind: 'union', options: [INT, { kind: 'none' }] }, 'PyInt | null', 'PyInt | null'],
    ['Literal', { kind: 'literal', values: ['a', 1, true, null] }, "'a' | 1 | true | null", "'a' | 1 | true | null"],
    ['ndarray (or shared memory)', { kind: 'tensor', dtype: null }, 'Tensor | ZeroCopyRef', 'Tensor'],
    ['NDArray[float32]', { kind: 'tensor', dtype: 'float32' }, "Tensor<'float32'> | ZeroCopyRef", "Tensor<'float32'>"],
    ['datetime: ISO text one way', { kind: 'datetime' }, 'unknown /* a datetime cannot be sent from the host (Python would get ISO 8601 text) */', 'string /* ISO 8601 text */'],
    ['timedelta: seconds', { kind: 'timedelta' }, 'unknown /* a timedelta cannot be sent from the host (Python would get seconds) */', 'number /* seconds */'],
    ['Decimal', { kind: 'decimal' }, 'unknown /* a decimal cannot be sent from the host (Python would get the decimal as text) */', 'string /* the decimal as text */'],
    ['an Arrow table', { kind: 'arrow_table' }, 'unknown /* an Arrow table: an apache-arrow Table (ArrowIPC without apache-arrow) */', 'unknown /* an Arrow table: an apache-arrow Table (ArrowIPC without apache-arrow) */'],
    ['a list of unions', { kind: 'list', items: { kind: 'union', options: [INT, STR] } }, 'readonly (PyInt | string)[]', '(PyInt | string)[]'],
    ['a ref', { kind: 'ref', name: 'pkg.Point' }, 'Point', 'Point'],
    ['a kind from a newer bridge', { kind: 'quaternion' } as unknown as TypeNode, "unknown /* 'quaternion' is a type this version does not know */", "unknown /* 'quaternion' is a type this version does not know */"],
  ])('%s', (_, node, arg, result) => {
    expect(ts(node, 'arg')).toBe(arg);
    expect(ts(node, 'result')).toBe(result);
  });

  it('objects: arguments may leave out fields with defaults; results have every field except a TypedDict\'s optional keys', () => {
    const fields = [{ name: 'x', type: INT, required: true }, { name: 'y', type: INT, required: false }];
    for (const origin of ['dataclass', 'namedtuple', 'pydantic'] as const) {
      expect(ts({ kind: 'object', name: 'p.P', origin, fields }, 'result')).toBe('{ x: PyInt; y: PyInt }');
    }
    expect(ts({ kind: 'object', name: 'p.P', origin: 'typeddict', fields }, 'result')).toBe('{ x: PyInt; y?: PyInt }');
    expect(ts({ kind: 'object', name: 'p.P', origin: 'dataclass', fields }, 'arg')).toBe('{ x: PyInt; y?: PyInt }');
    expect(ts({ kind: 'enum', name: 'p.Color', values: ['red', 'green'] }, 'result')).toBe("'red' | 'green'");
  });
});

describe('ValueChecker', () => {
  const definitions = { 'p.Point': { kind: 'object', name: 'p.Point', origin: 'typeddict', fields: [{ name: 'x', type: INT, required: true }] } as TypeNode };
  const args = new ValueChecker(definitions, new WireMapper('arg'));
  const map = (node: TypeNode) => new WireMapper('arg').map(node);

  it.each<[string, TypeNode, unknown[], unknown[]]>([
    ['int', INT, [1, -3, 2n ** 70n], [1.5, '1', null]],
    ['float', { kind: 'float' }, [1.5, 1], [1n, '1']],
    ['None', { kind: 'none' }, [null, undefined], [0, '']],
    ['bytes', { kind: 'bytes' }, [new Uint8Array(1), Buffer.from('x')], [[1], 'x']],
    ['tensor of a dtype', { kind: 'tensor', dtype: 'float32' }, [new Tensor('float32', [1], new Float32Array(1))], [new Tensor('float64', [1], new Float64Array(1)), [1]]],
    ['tuple', { kind: 'tuple', items: [INT, STR] }, [[1, 'a']], [[1], [1, 2], 'a']],
    ['dict', { kind: 'dict', keys: STR, values: INT }, [{}, { a: 1 }], [{ a: 'x' }, [1], new Map()]],
    ['ref to a TypedDict', { kind: 'ref', name: 'p.Point' }, [{ x: 1 }, { x: 1, extra: true }], [{}, { x: '1' }]],
    ['Literal', { kind: 'literal', values: ['a', null] }, ['a', null], ['b', 0]],
  ])('%s: accepts and rejects', (_, node, good, bad) => {
    for (const v of good) expect(args.check(v, map(node))).toEqual([]);
    for (const v of bad) expect(args.check(v, map(node))).not.toEqual([]);
  });

  it('names the innermost field that is wrong', () => {
    expect(args.check({ x: 'one' }, map({ kind: 'ref', name: 'p.Point' }), ['p'])).toEqual([{ path: 'p.x', expected: 'PyInt', received: '"one" (string)' }]);
  });
});
