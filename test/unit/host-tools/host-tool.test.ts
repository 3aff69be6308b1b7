import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HostTool, type HostToolContext, type HostToolParameter } from '../../../src/host-tools/host-tool.js';
import { isSnakepitError, ValidationError } from '../../../src/errors.js';
import { instanceOf, thrown as thrownError } from '../../helpers/thrown.js';

const echo = (args: unknown) => args;
const context = (): HostToolContext => ({
  toolName: 't',
  sessionId: undefined,
  workerId: undefined,
  pool: undefined,
  signal: new AbortController().signal,
});

const thrown = (fn: () => unknown): ValidationError => thrownError<ValidationError>(fn, instanceOf(ValidationError));

const listTool = (parameters: readonly HostToolParameter[]) => new HostTool('t', echo, { parameters });
const issuePaths = (error: ValidationError) => (error.details.issues as { path: string }[]).map((i) => i.path);

describe('HostTool construction', () => {
  it('keeps its options, with defaults', () => {
    const tool = new HostTool('greet', echo);
    expect(tool).toMatchObject({ name: 'greet', description: '', exposedToPython: false, sessionId: undefined, timeoutMs: undefined });
    const own = new HostTool('greet', echo, { description: 'Says hi', exposedToPython: true, timeoutMs: 500 }, 's1');
    expect(own).toMatchObject({ description: 'Says hi', exposedToPython: true, sessionId: 's1', timeoutMs: 500 });
  });

  it.each([
    ['empty name', () => new HostTool('', echo), 'name'],
    ['name with whitespace', () => new HostTool('a b', echo), 'name'],
    ['non-string name', () => new HostTool(42 as unknown as string, echo), 'name'],
    ['missing fn', () => new HostTool('t', undefined as never), 'fn'],
    ['non-function fn', () => new HostTool('t', 'nope' as never), 'fn'],
    ['zero timeoutMs', () => new HostTool('t', echo, { timeoutMs: 0 }), 'timeoutMs'],
    ['fractional timeoutMs', () => new HostTool('t', echo, { timeoutMs: 1.5 }), 'timeoutMs'],
    ['non-boolean exposedToPython', () => new HostTool('t', echo, { exposedToPython: 'yes' as never }), 'exposedToPython'],
    ['parameters neither list nor schema', () => new HostTool('t', echo, { parameters: {} as never }), 'parameters'],
    ['parameter without name', () => listTool([{ name: '' }]), 'parameters[0].name'],
    ['duplicate parameter', () => listTool([{ name: 'a' }, { name: 'a' }]), 'parameters[1].name'],
    ['empty session id', () => new HostTool('t', echo, {}, ''), 'sessionId'],
  ])('rejects a %s with invalid_argument naming the field', (_what, make, field) => {
    const error = thrown(make);
    expect(error.code).toBe('invalid_argument');
    expect(error.details).toMatchObject({ field, expected: expect.any(String), received: expect.any(String) });
  });
});

describe('HostTool with a parameter list', () => {
  it('builds the spec with defaults for type and required', () => {
    const tool = new HostTool('t', echo, {
      description: 'D',
      parameters: [{ name: 'a' }, { name: 'b', type: 'int', required: true, description: 'B', default: 3 }],
    });
    expect(tool.spec()).toStrictEqual({
      name: 't',
      description: 'D',
      parameters: [
        { name: 'a', type: 'any', required: false },
        { name: 'b', type: 'int', required: true, description: 'B', default: 3 },
      ],
    });
  });

  it('returns a spec copy the caller may edit', () => {
    const tool = listTool([{ name: 'a' }]);
    tool.spec().parameters[0]!.name = 'changed';
    expect(tool.spec().parameters[0]!.name).toBe('a');
  });

  it('reports every missing required argument', () => {
    const error = thrown(() => listTool([{ name: 'a', required: true }, { name: 'b', type: 'string', required: true }, { name: 'c' }]).validate({}));
    expect(error.code).toBe('invalid_host_tool_args');
    expect(error.details).toMatchObject({
      tool: 't',
      issues: [
        { path: 'a', expected: 'a value', received: 'undefined', message: expect.any(String) },
        { path: 'b', expected: 'a string', received: 'undefined', message: expect.any(String) },
      ],
    });
  });

  it('fills in defaults and passes unknown arguments through', () => {
    const tool = listTool([{ name: 'n', type: 'integer', default: 7 }, { name: 'r', type: 'int', required: true, default: 1 }]);
    expect(tool.validate({ extra: 'x' })).toStrictEqual({ n: 7, r: 1, extra: 'x' });
    expect(tool.validate({ n: 2, r: 3 })).toStrictEqual({ n: 2, r: 3 });
  });

  it('does not change the arguments it was given', () => {
    const args = {};
    listTool([{ name: 'n', default: 1 }]).validate(args);
    expect(args).toStrictEqual({});
  });

  it('allows null for an optional parameter, not for a required typed one', () => {
    expect(listTool([{ name: 'a', type: 'string' }]).validate({ a: null })).toStrictEqual({ a: null });
    const error = thrown(() => listTool([{ name: 'a', type: 'string', required: true }]).validate({ a: null }));
    expect(error.details).toMatchObject({ issues: [{ path: 'a', expected: 'a string', received: 'null' }] });
  });

  const bytes = new Uint8Array([1, 2]);
  // [types (synonyms, any case), accepted values, rejected values]
  const TYPES: [string[], unknown[], unknown[]][] = [
    [['string', 'str', 'STRING'], ['', 'x'], [1, true, [], {}]],
    [['integer', 'int', 'Int'], [0, -3, 2 ** 60, 5n], [1.5, '1', NaN, true]],
    [['number', 'float', 'double', 'Float'], [1.5, 0, 5n, NaN], ['1', true, []]],
    [['boolean', 'bool'], [true, false], [0, 'true']],
    [['map', 'object', 'dict', 'Dict'], [{}, { a: 1 }, Object.create(null)], [[], bytes, new Map(), new Date(0), 'x']],
    [['list', 'array', 'embedding'], [[], [1, 'a']], [{}, bytes, 'ab']],
    [['binary', 'bytes'], [bytes, Buffer.from('a')], [[1, 2], 'ab', {}]],
    [['any', 'whatever', 'tensor'], [1, 'a', {}, [], bytes], []],
  ];
  describe.each(TYPES)('type %s', (names, good, bad) => {
    it.each(names)('as %s accepts its values and rejects others', (type) => {
      const tool = listTool([{ name: 'v', type, required: true }]);
      for (const value of good) expect(tool.validate({ v: value })).toStrictEqual({ v: value });
      for (const value of bad) {
        const error = thrown(() => tool.validate({ v: value }));
        expect(error.code).toBe('invalid_host_tool_args');
        expect(issuePaths(error)).toEqual(['v']);
      }
    });
  });

  it('names each bad field with what it expected and got', () => {
    const tool = listTool([{ name: 'a', type: 'int' }, { name: 'b', type: 'bool' }, { name: 'c', type: 'str' }]);
    const error = thrown(() => tool.validate({ a: 'x', b: true, c: 5 }));
    expect(error.details).toStrictEqual({
      tool: 't',
      issues: [
        { path: 'a', expected: 'an integer', received: '"x" (string)', message: expect.any(String) },
        { path: 'c', expected: 'a string', received: '5 (number)', message: expect.any(String) },
      ],
    });
  });

  it('rejects arguments that are not a map', () => {
    const error = thrown(() => listTool([]).validate([] as never));
    expect(error.code).toBe('invalid_host_tool_args');
    expect(issuePaths(error)).toEqual(['']);
  });

  it('copies its parameter list', () => {
    const params = [{ name: 'a', required: true }];
    const tool = listTool(params);
    params[0]!.required = false;
    expect(tool.spec().parameters[0]!.required).toBe(true);
  });
});

describe('HostTool with a zod schema', () => {
  const schema = z.object({
    text: z.string().describe('What to say'),
    times: z.number().int().positive().default(2).describe('How often'),
    ratio: z.number().optional(),
    big: z.bigint().optional(),
    loud: z.boolean().default(false),
    opts: z.object({ a: z.string() }).optional(),
    tags: z.record(z.string(), z.string()).optional(),
    items: z.array(z.number()).nullable(),
    pair: z.tuple([z.number(), z.number()]).optional(),
    data: z.instanceof(Uint8Array).optional(),
    mode: z.enum(['fast', 'slow']).default('fast'),
    kind: z.literal('k').optional(),
    anything: z.any(),
    email: z.email().optional().describe('Contact'),
    count: z.int().prefault(1),
    parsed: z.string().transform(Number).optional(),
  });
  const tool = new HostTool('say', echo, { description: 'Says things', parameters: schema });

  it('lists the fields with their types, requiredness, descriptions and defaults', () => {
    expect(tool.spec()).toStrictEqual({
      name: 'say',
      description: 'Says things',
      parameters: [
        { name: 'text', type: 'string', required: true, description: 'What to say' },
        { name: 'times', type: 'integer', required: false, description: 'How often', default: 2 },
        { name: 'ratio', type: 'number', required: false },
        { name: 'big', type: 'integer', required: false },
        { name: 'loud', type: 'boolean', required: false, default: false },
        { name: 'opts', type: 'map', required: false },
        { name: 'tags', type: 'map', required: false },
        { name: 'items', type: 'list', required: true },
        { name: 'pair', type: 'list', required: false },
        { name: 'data', type: 'any', required: false },
        { name: 'mode', type: 'string', required: false, default: 'fast' },
        { name: 'kind', type: 'string', required: false },
        { name: 'anything', type: 'any', required: true },
        { name: 'email', type: 'string', required: false, description: 'Contact' },
        { name: 'count', type: 'integer', required: false, default: 1 },
        { name: 'parsed', type: 'string', required: false },
      ],
    });
  });

  it('returns the parsed output, defaults applied', () => {
    expect(tool.validate({ text: 'hi', items: null, anything: 0, parsed: '4' })).toStrictEqual({
      text: 'hi',
      times: 2,
      loud: false,
      items: null,
      mode: 'fast',
      anything: 0,
      count: 1,
      parsed: 4,
    });
  });

  it('reports every bad field by path', () => {
    const error = thrown(() => tool.validate({ text: 1, times: 1.5, items: null, anything: 0, opts: { a: 2 } }));
    expect(error.code).toBe('invalid_host_tool_args');
    expect(error.details.tool).toBe('say');
    expect(error.details.issues).toEqual(
      expect.arrayContaining([
        { path: 'text', expected: expect.any(String), received: '1 (number)', message: expect.any(String) },
        { path: 'times', expected: expect.any(String), received: '1.5 (number)', message: expect.any(String) },
        { path: 'opts.a', expected: expect.any(String), received: '2 (number)', message: expect.any(String) },
      ]),
    );
    expect(issuePaths(error)).toHaveLength(3);
  });

  it('has no parameters for a schema that is not an object', () => {
    const t = new HostTool('t', echo, { parameters: z.array(z.number()) });
    expect(t.spec().parameters).toEqual([]);
    expect(t.validate([1] as never)).toEqual([1]);
  });

  it('looks through wrappers around the object', () => {
    const t = new HostTool('t', echo, { parameters: z.object({ a: z.string() }).optional() });
    expect(t.spec().parameters).toEqual([{ name: 'a', type: 'string', required: true }]);
  });

  it('passes unknown keys through a loose object and rejects them for a strict one', () => {
    const loose = new HostTool('t', echo, { parameters: z.looseObject({ a: z.string() }) });
    expect(loose.validate({ a: 'x', b: 1 })).toStrictEqual({ a: 'x', b: 1 });
    const strict = new HostTool('t', echo, { parameters: z.strictObject({ a: z.string() }) });
    expect(issuePaths(thrown(() => strict.validate({ a: 'x', b: 1 })))).toEqual(['b']);
  });
});

describe('HostTool.invoke', () => {
  it('runs the function with the validated arguments and the context', async () => {
    const seen: unknown[] = [];
    const ctx = context();
    const tool = new HostTool('t', (args, c) => {
      seen.push(args, c);
      return 'done';
    }, { parameters: [{ name: 'n', default: 1 }] });
    await expect(tool.invoke({}, ctx)).resolves.toBe('done');
    expect(seen).toEqual([{ n: 1 }, ctx]);
  });

  it('awaits an async function', async () => {
    const tool = new HostTool('t', async (args: { n: number }) => args.n * 2);
    await expect(tool.invoke({ n: 21 }, context())).resolves.toBe(42);
  });

  it('turns a synchronous throw into a rejection, unchanged', async () => {
    const boom = new TypeError('boom');
    const tool = new HostTool('t', () => {
      throw boom;
    });
    const result = tool.invoke({}, context());
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toBe(boom);
  });

  it('rejects bad arguments without running the function', async () => {
    let ran = false;
    const tool = new HostTool('t', () => (ran = true), { parameters: [{ name: 'a', required: true }] });
    const error: unknown = await tool.invoke({}, context()).catch((e: unknown) => e);
    expect(isSnakepitError(error) && error.code).toBe('invalid_host_tool_args');
    expect(ran).toBe(false);
  });
});
