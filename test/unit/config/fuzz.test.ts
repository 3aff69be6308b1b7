// Config fuzzing: random invalid configs (wrong types and values for known fields, unknown keys, nested
// junk) always give a ConfigError whose issues each name a field path, what was expected and what was
// received; never another exception.
import fc from 'fast-check';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { resolveConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';

type Path = (string | number)[];

/** Unwraps optional/default/prefault/nullable/pipe wrappers down to the schema that holds the shape. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let s = schema as z.ZodType;
  for (let i = 0; i < 10; i++) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else break;
  }
  return s;
}

/** Every known field's path in the schema: objects by key, arrays through their element (index 0). */
function knownPaths(schema: z.core.$ZodType, prefix: Path = [], depth = 0): Path[] {
  const s = unwrap(schema);
  if (depth > 4) return [];
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, z.core.$ZodType>).flatMap(([key, field]) => [
      [...prefix, key],
      ...knownPaths(field, [...prefix, key], depth + 1),
    ]);
  }
  if (s instanceof z.ZodArray) return knownPaths(s.element as z.core.$ZodType, [...prefix, 0], depth + 1);
  return [];
}

const PATHS = knownPaths(configSchema);

// Values of every kind a JS config file could hold, biased towards the wrong-but-plausible ones.
const arbJunk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(-1, 0, 1.5, -0, NaN, Infinity, -Infinity, 2 ** 53, 65_536, '', ' ', 'x', 'infinity', '1', 'true', true, false, null, [], {}, [1], { value: 0 }),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.bigInt(),
  fc.constant(Symbol('junk')),
  fc.constant(() => 1),
  fc.constant(new Date(0)),
  fc.constant(new Map([['a', 1]])),
  fc.constant(Object.create(null) as object),
  fc.anything({ maxDepth: 2, maxKeys: 3, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }),
);

const arbUnknownKey = fc.string({ minLength: 1, maxLength: 10 }).map((k) => `zz${k}`);

/** Sets `value` at `path` inside `root`, creating objects/arrays on the way (replacing non-objects). */
function setAt(root: Record<string, unknown>, path: Path, value: unknown): void {
  let node: Record<string | number, unknown> = root;
  path.forEach((seg, i) => {
    if (i === path.length - 1) {
      node[seg] = value;
      return;
    }
    const next = node[seg];
    const container = Array.isArray(next) || (typeof next === 'object' && next !== null && Object.getPrototypeOf(next) === Object.prototype);
    if (!container) node[seg] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[seg] as Record<string | number, unknown>;
  });
}

// A mutation: junk at a known path, or an unknown key next to a known path.
const arbMutation = fc.oneof(
  fc.record({ kind: fc.constant('junk' as const), path: fc.constantFrom(...PATHS), value: arbJunk }),
  fc.record({ kind: fc.constant('unknown' as const), path: fc.constantFrom([], ...PATHS), key: arbUnknownKey, value: arbJunk }),
);

interface Mutation {
  kind: 'junk' | 'unknown';
  path: Path;
  key?: string;
  value: unknown;
}

function build(base: Record<string, unknown>, mutations: Mutation[]): Record<string, unknown> {
  const config = structuredClone(base);
  for (const m of mutations) {
    if (m.kind === 'junk') setAt(config, m.path, m.value);
    else setAt(config, [...m.path.slice(0, -1), m.key!], m.value);
  }
  return config;
}

const arbBase = fc.constantFrom<Record<string, unknown>>({}, { pools: [{ name: 'a' }] }, { poolSize: 1, adapter: 'pkg.mod.Adapter' }, { pools: [{ name: 'a' }, { name: 'b', poolSize: 2 }] });

/** resolveConfig's outcome: resolved, or the ConfigError; any other throw fails the test. */
function outcome(input: unknown): ConfigError | 'valid' {
  try {
    resolveConfig(input);
    return 'valid';
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(`resolveConfig threw a non-ConfigError: ${String(error)}`, { cause: error });
  }
}

function checkIssues(error: ConfigError, input: unknown): void {
  expect(error.code).toBe('invalid_config');
  expect(error.issues.length).toBeGreaterThan(0);
  for (const issue of error.issues) {
    expect(typeof issue.path).toBe('string');
    expect(typeof issue.expected).toBe('string');
    expect(issue.expected.length).toBeGreaterThan(0);
    expect(typeof issue.received).toBe('string');
    expect(issue.received.length).toBeGreaterThan(0);
    expect(typeof issue.message).toBe('string');
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
      // An object config: every issue names a field, starting at one of the config's own keys.
      expect(issue.path).not.toBe('');
      const head = /^[^.[]+|^\[("(?:[^"\\]|\\.)*")\]/.exec(issue.path);
      expect(head).not.toBeNull();
      const key = head![1] !== undefined ? (JSON.parse(head![1]) as string) : head![0];
      expect(Object.hasOwn(input, key)).toBe(true);
    }
  }
}

describe('config fuzzing', () => {
  it('configs with an unknown key somewhere and junk elsewhere always give a field-naming ConfigError', () => {
    fc.assert(
      fc.property(arbBase, fc.array(arbMutation, { maxLength: 5 }), arbUnknownKey, fc.constantFrom([], ...PATHS), (base, mutations, key, at) => {
        const input = build(base, [...mutations, { kind: 'unknown', path: at, key, value: 1 }]);
        const result = outcome(input);
        expect(result).toBeInstanceOf(ConfigError);
        checkIssues(result as ConfigError, input);
      }),
      { numRuns: 400 },
    );
  });

  it('junk at known fields gives either a valid config or a field-naming ConfigError, never another exception', () => {
    fc.assert(
      fc.property(arbBase, fc.array(arbMutation.filter((m) => m.kind === 'junk'), { minLength: 1, maxLength: 4 }), (base, mutations) => {
        const input = build(base, mutations);
        const result = outcome(input);
        if (result !== 'valid') checkIssues(result, input);
      }),
      { numRuns: 400 },
    );
  });

  it('a config that is not an object at all gives a ConfigError at the root', () => {
    fc.assert(
      fc.property(arbJunk.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date || v instanceof Map), (input) => {
        const result = outcome(input);
        if (result === 'valid') return; // e.g. a Date or Map: an object without bad keys
        checkIssues(result, input);
      }),
      { numRuns: 200 },
    );
  });
});
