// Every mapped Python type through a real worker: each result (and chunk) must fit the type `gen types` declares for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, Tensor, type Snakepit } from '../../src/index.js';
import { ValueChecker } from '../../src/typed/check-value.js';
import type { AdapterTypeSpec, ToolTypeSpec } from '../../src/typed/type-spec.js';
import { WireMapper } from '../../src/typed/wire-type.js';
import { extractPoolTypes } from '../../src/typegen/extract.js';
import { FIXTURES, startPool } from '../helpers/pool.js';

const ADAPTER = 'typed_adapter.TypedAdapter';

// Arguments of each call: a value of every mapped parameter type goes the other way too.
const CALLS: Record<string, Record<string, unknown>> = {
  scalars: { s: 'text', i: 7, f: 1.5, b: true, raw: new Uint8Array([1, 2, 3]), nothing: null },
  big: { n: 3n },
  containers: { xs: [1, 2n], m: { a: 1.5 }, t: [1, 'one'], s: ['b', 'a'], rest: [4, 5] },
  lists: { n: 3 },
  optional: { x: 5, y: null, u: 'u' },
  literal: { mode: 'slow', level: 2 },
  point: { p: { x: 1, y: 2 }, opts: { verbose: true } },
  tree: { depth: 2 },
  item: { name: 'pear' },
  pair: {},
  color: { c: 'green' },
  level: { lv: 2 },
  tensor: { n: 3 },
  scale: { x: new Tensor('float32', [2], new Float32Array([1, 2])), by: 3 },
  scalar64: {},
  when: {},
  opaque: {},
  function: {},
  user: { u: { name: 'ada', age: 36, tags: ['x'], favourite: 'red' } },
  coro: { x: 3 },
  anything: { value: { nested: [1] } },
  untyped: { x: 1 },
  kwargs: { a: 1, b: 'bee' },
  count: { n: 3 },
  acount: { n: 2 },
  single: {},
};

describe('generated types describe what arrives', () => {
  let sp: Snakepit;
  let spec: AdapterTypeSpec;
  let tools: Map<string, ToolTypeSpec>;
  const results = new ValueChecker({}, new WireMapper('result'));
  let resultChecker: ValueChecker;
  let argChecker: ValueChecker;

  beforeAll(async () => {
    const pool = resolveConfig({ pools: [{ name: 'default', adapter: ADAPTER, pythonPath: [FIXTURES] }] }).pools[0]!;
    spec = await extractPoolTypes(pool);
    tools = new Map(spec.tools.map((t) => [t.name, t]));
    resultChecker = new ValueChecker(spec.definitions, new WireMapper('result'));
    argChecker = new ValueChecker(spec.definitions, new WireMapper('arg'));
    ({ sp } = await startPool({ adapter: ADAPTER }));
  });
  afterAll(() => sp.stop());

  it('covers every tool of the fixture', () => {
    expect(Object.keys(CALLS).sort()).toEqual([...tools.keys()].filter((t) => t !== 'unresolved').sort());
  });

  it.each(Object.entries(CALLS))('%s: the arguments fit the parameter types and the result fits the result type', async (name, args) => {
    const tool = tools.get(name)!;
    for (const p of tool.params) if (p.name in args) expect(argChecker.check(args[p.name], new WireMapper('arg').map(p.type), [p.name])).toEqual([]);
    const value = await sp.execute(name, args);
    expect(resultChecker.check(value, new WireMapper('result').map(tool.result))).toEqual([]);
    if (tool.streaming) {
      const chunks: unknown[] = [];
      for await (const chunk of sp.stream(name, args)) chunks.push(chunk);
      expect(chunks.length).toBeGreaterThan(0);
      for (const chunk of chunks) expect(resultChecker.check(chunk, new WireMapper('result').map(tool.chunk))).toEqual([]);
    }
  });

  it('the checks are not vacuous: values of other types do not fit', async () => {
    const map = (node: ToolTypeSpec['result']) => new WireMapper('result').map(node);
    expect(resultChecker.check('3', map(tools.get('big')!.result))).not.toEqual([]);
    expect(resultChecker.check({ x: 1 }, map(tools.get('point')!.result))).not.toEqual([]);
    expect(resultChecker.check(new Tensor('float64', [1], new Float64Array([1])), map(tools.get('tensor')!.result))).not.toEqual([]);
    expect(resultChecker.check('purple', map(tools.get('color')!.result))).not.toEqual([]);
    expect(results.check([1, 'x'], { t: 'tuple', items: [{ t: 'int' }, { t: 'int' }] })).not.toEqual([]);
  });

  it('values arrive as the mapping says: bigint beyond 2^53, bytes as Uint8Array, tensors with their dtype', async () => {
    expect(await sp.execute('big', { n: 3 })).toBe(3n * 2n ** 60n);
    const scalars = (await sp.execute('scalars', CALLS.scalars)) as unknown[];
    expect(scalars).toEqual(['text', 7, 1.5, true, Buffer.from([1, 2, 3]), null]);
    expect(scalars[4]).toBeInstanceOf(Uint8Array);
    expect(await sp.execute('tensor', { n: 2 })).toMatchObject({ dtype: 'float32', shape: [2] });
    expect(await sp.execute('when', {})).toEqual(['2024-01-02T03:04:05', '2024-01-02', 90, '1.25', '00000000-0000-0000-0000-000000000001']);
    expect(await sp.execute('function', {})).toMatchObject({ __snakepit_unserializable__: true });
  });
});
