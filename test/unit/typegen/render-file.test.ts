// The declaration file: deterministic text, named types, pools without types or with routed names, and what it makes compile.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AdapterTypeSpec, ToolTypeSpec, TypeNode } from '../../../src/typed/type-spec.js';
import { renderTypesFile, type PoolTypes } from '../../../src/typegen/render-file.js';
import { typecheck } from '../../helpers/typecheck.js';

const INT: TypeNode = { kind: 'int' };
const STR: TypeNode = { kind: 'str' };

function tool(name: string, over: Partial<ToolTypeSpec> = {}): ToolTypeSpec {
  return { name, description: '', streaming: false, params: [], extra_params: null, result: { kind: 'none' }, chunk: { kind: 'none' }, declared: true, ...over };
}

function spec(tools: ToolTypeSpec[], definitions: Record<string, TypeNode> = {}, open = false): AdapterTypeSpec {
  return { version: 1, adapter: 'pkg.mod.A', open, tools, definitions };
}

const point = (module: string): TypeNode => ({ kind: 'object', name: `${module}.Point`, origin: 'dataclass', fields: [{ name: 'x', type: INT, required: true }, { name: 'tags', type: { kind: 'list', items: STR }, required: false }] });

const POOLS: PoolTypes[] = [
  {
    name: 'shop',
    adapter: 'shop.Adapter',
    spec: spec(
      [
        tool('where', { description: 'Where a point is.\nSecond line.', params: [{ name: 'p', type: { kind: 'ref', name: 'a.Point' }, required: true, description: 'the point' }], result: { kind: 'ref', name: 'a.Point' } }),
        tool('other', { params: [{ name: 'q', type: { kind: 'ref', name: 'b.Point' }, required: true }], result: { kind: 'list', items: { kind: 'ref', name: 'b.Point' } } }),
        tool('count', { streaming: true, params: [{ name: 'n', type: INT, required: false, default: 3 }], result: { kind: 'list', items: INT }, chunk: INT }),
        tool('missing', { result: { kind: 'unknown', reason: "unresolved forward reference 'Foo'" } }),
      ],
      { 'a.Point': point('a'), 'b.Point': point('b') },
      true,
    ),
  },
  { name: 'legacy', adapter: 'old.Adapter', spec: undefined },
];

describe('renderTypesFile', () => {
  const text = renderTypesFile({ pools: POOLS, defaultPool: 'shop', serialization: 'graceful' });

  it('is the same text whatever the order of the pools', () => {
    expect(renderTypesFile({ pools: [...POOLS].reverse(), defaultPool: 'shop', serialization: 'graceful' })).toBe(text);
    expect(text.indexOf('legacy:')).toBeLessThan(text.indexOf('shop:'));
    expect(text.indexOf('count:')).toBeLessThan(text.indexOf('missing:'));
  });

  it('names Python types after their class, with the module when two share a name, and an argument form only when it differs', () => {
    expect(text).toContain('type a_Point = { x: PyInt; tags: string[] };');
    expect(text).toContain('type a_PointArg = { x: PyInt; tags?: readonly string[] };');
    expect(text).toContain('type b_Point = { x: PyInt; tags: string[] };');
    expect(text).toContain('type b_PointArg = { x: PyInt; tags?: readonly string[] };');
    expect(text).toContain('result: b_Point[];');
    expect(text).toMatch(/args: \{\n\s+\/\*\* the point \*\/\n\s+p: a_PointArg;/);
  });

  it('keeps reasons of unknown types as comments, docs and defaults as JSDoc', () => {
    expect(text).toContain("result: unknown /* unresolved forward reference 'Foo' */;");
    expect(text).toMatch(/\/\*\*\n\s+\* Where a point is\.\n\s+\* Second line\.\n\s+\*\/\n\s+where: \{/);
    expect(text).toContain('/** @default 3 */');
  });

  it('gives pools without types and routed names untyped entries', () => {
    expect(text).toContain('legacy: { [tool: string]: UntypedToolEntry };');
    expect(text).toMatch(/Names the adapter routes itself .*\n\s+\[tool: string\]: UntypedToolEntry;/);
    expect(text).toContain("import type { PyInt, UntypedToolEntry } from 'snakepit';");
  });

  it('has no default pool when the config has none to pick', () => {
    expect(renderTypesFile({ pools: POOLS, defaultPool: undefined, serialization: 'graceful' })).toMatch(/defaultPool: never;/);
  });

  it.each([
    ['graceful', 'result: UnserializableValue /* a builtins.function goes as the unserializable marker */;', 'result: { [key: string]: unknown } /* a t.Thing goes as its public fields; without any: the unserializable marker */;'],
    ['repr', 'result: string /* a builtins.function goes as its repr */;', 'result: { [key: string]: unknown } /* a t.Thing goes as its public fields */ | string /* its repr when it has no public fields */;'],
    ['strict', 'result: never /* a builtins.function fails the call (unserializable) */;', 'result: { [key: string]: unknown } /* a t.Thing goes as its public fields; without any: the call fails (unserializable) */;'],
  ] as const)('maps values with no wire form by the serialization policy (%s)', (serialization, fn, opaque) => {
    const pools: PoolTypes[] = [{ name: 'p', adapter: 'x.A', spec: spec([tool('fn', { result: { kind: 'unserializable', name: 'builtins.function' } }), tool('obj', { result: { kind: 'opaque', name: 't.Thing' } })]) }];
    const out = renderTypesFile({ pools, defaultPool: 'p', serialization });
    expect(out).toContain(fn);
    expect(out).toContain(opaque);
  });
});

describe('the rendered file in a program', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-types-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('types declared tools, leaves routed names and pools without types open', () => {
    writeFileSync(path.join(dir, 'tools.d.ts'), renderTypesFile({ pools: POOLS, defaultPool: 'shop', serialization: 'graceful' }));
    writeFileSync(
      path.join(dir, 'use.ts'),
      [
        "import { execute, type PyInt } from 'snakepit';",
        'type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;',
        'export async function use(): Promise<[true, true, true, true]> {',
        "  await execute('where', { p: { x: 'no' } }); // an error: x is an int",
        "  const count: Same<Awaited<ReturnType<typeof execute<never, 'shop', 'count'>>>, PyInt[]> = true;",
        "  const where: Same<Awaited<ReturnType<typeof execute<never, 'shop', 'where'>>>, { x: PyInt; tags: string[] }> = true;",
        "  const routed: Same<Awaited<ReturnType<typeof execute<never, 'shop', 'routed_by_name'>>>, unknown> = true;",
        "  const legacy: Same<Awaited<ReturnType<typeof execute<never, 'legacy', 'anything'>>>, unknown> = true;",
        "  await execute('routed_by_name', { any: 1 });",
        "  await execute('anything', {}, { pool: 'legacy' });",
        '  return [count, where, routed, legacy];',
        '}',
      ].join('\n'),
    );
    const found = typecheck([path.join(dir, 'tools.d.ts'), path.join(dir, 'use.ts')]);
    expect(found.map((d) => [path.basename(d.file), d.line, d.code])).toEqual([['use.ts', 4, 2322]]);
  });
});
