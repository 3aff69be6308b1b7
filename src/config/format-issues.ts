/** Turns zod issues into `ConfigIssue`s: the field, what it expects, what it got, one readable line. */
import { z } from 'zod';
import type { ConfigIssue } from '../errors.js';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

// Field-level "expected" texts. A WeakMap rather than zod metadata, because `.describe()` clones a
// schema and would drop it; we register on the innermost schema and look through wrappers instead.
const expectations = new WeakMap<z.core.$ZodType, string>();

/** Attaches the human "expected" text of a field to `schema` and returns the same schema. */
export function expecting<T extends z.core.$ZodType>(schema: T, expected: string): T {
  expectations.set(schema, expected);
  return schema;
}

/** Original option names that camelCasing alone does not map onto ours (normalised form -> our key). */
const RENAMED: Readonly<Record<string, string>> = {
  adaptermodule: 'adapter',
  adapterspec: 'adapter',
  size: 'poolSize',
  profile: 'workerProfile',
};

/** Maps every zod issue to one or more `ConfigIssue`s; `input` is the raw config, for received values. */
export function formatIssues(issues: readonly Issue[], schema: z.core.$ZodType, input: unknown): ConfigIssue[] {
  return issues.flatMap((issue) => formatIssue(issue, [], schema, input));
}

function formatIssue(issue: Issue, prefix: Path, schema: z.core.$ZodType, root: unknown): ConfigIssue[] {
  const path = [...prefix, ...issue.path];
  const received = 'input' in issue ? issue.input : valueAt(root, path);

  if (issue.code === 'unrecognized_keys') {
    const known = objectKeysAt(schema, path);
    return issue.keys.map((key) => unknownKey([...path, key], key, known, valueAt(root, [...path, key])));
  }
  if (issue.code === 'invalid_union') {
    // When the value has the shape of exactly one branch (say the object form of `workerTtl`), that
    // branch's own complaint ("value must be >= 1") helps more than "matches no form".
    const shaped = issue.errors.filter((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
    if (shaped.length === 1) return shaped[0]!.flatMap((inner) => formatIssue(inner, path, schema, root));
  }
  if (issue.code === 'invalid_key') {
    const keySchema = recordKeySchemaAt(schema, path.slice(0, -1));
    const expected = (keySchema && expectationOf(keySchema)) ?? 'a valid key';
    return [make(path, expected, received, 'key ')];
  }
  if (issue.code === 'custom') {
    const params = (issue.params ?? {}) as { expected?: string; note?: string };
    return [make(path, params.expected ?? issue.message, received, '', params.note)];
  }
  const node = schemaAt(schema, path);
  const expected = (node && expectationOf(node)) ?? fallbackExpected(issue);
  return [make(path, expected, received)];
}

function make(path: Path, expected: string, value: unknown, what = '', note?: string): ConfigIssue {
  const p = formatPath(path);
  const subject = p === '' ? 'the config' : `${what}\`${p}\``;
  const received = describeValue(value);
  const message = `Expected ${subject} to be ${expected}, got ${received}${note ? `; ${note}` : ''}`;
  return { path: p, expected, received, message };
}

function unknownKey(path: Path, key: PropertyKey, known: readonly string[], value: unknown): ConfigIssue {
  const p = formatPath(path);
  const suggestion = typeof key === 'string' ? suggestKey(key, known) : undefined;
  const expected = suggestion ? `a known option (did you mean \`${suggestion}\`?)` : 'a known option';
  const hint = suggestion
    ? `; did you mean \`${suggestion}\`?`
    : known.length > 0
      ? `. Known options here: ${known.map((k) => `\`${k}\``).join(', ')}`
      : '';
  return { path: p, expected, received: describeValue(value), message: `Unknown option \`${p}\`${hint}` };
}

/** The known key closest to `key` (ignoring case, `_` and `-`), if it is close enough to be a likely typo. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const target = norm(key);
  const renamed = RENAMED[target];
  if (renamed !== undefined && known.includes(renamed)) return renamed;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(target, norm(candidate));
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  // About one edit per three characters, at least two: catches `poolSzie`, `pool_queue_timeout`
  // (our name adds `Ms`), but not unrelated words that happen to be short.
  return bestDistance <= Math.max(2, Math.floor(target.length / 3)) ? best : undefined;
}

/** Levenshtein distance, two-row version. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** `pools[0].poolSize`, `adapterEnv["MY-VAR"]`; the empty path (the config itself) is `''`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][\w$]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${typeof seg === 'string' ? JSON.stringify(seg) : String(seg)}]`;
  }
  return out;
}

/** `0 (number)`, `"4" (string)`, `[1,2] (array)`, `null`, `undefined`. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  switch (typeof value) {
    case 'string':
      return `${JSON.stringify(truncate(value))} (string)`;
    case 'number':
    case 'boolean':
      return `${String(value)} (${typeof value})`;
    case 'bigint':
      return `${value}n (bigint)`;
    case 'function':
      return 'a function';
    case 'symbol':
      return `${String(value)} (symbol)`;
    default: {
      let text: string;
      try {
        text = JSON.stringify(value) ?? String(value);
      } catch {
        text = Object.prototype.toString.call(value); // cycles, bigints inside
      }
      return `${truncate(text)} (${Array.isArray(value) ? 'array' : 'object'})`;
    }
  }
}

function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function fallbackExpected(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const e = issue.expected;
      if (e === 'int') return 'an integer';
      return /^[aeiou]/.test(e) ? `an ${e}` : `a ${e}`;
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? literal(issue.values[0])
        : `one of ${issue.values.map(literal).join(' | ')}`;
    case 'too_small':
    case 'too_big': {
      const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      if (issue.origin === 'array') return `an array with ${op} ${String(bound)} items`;
      if (issue.origin === 'string') return `a string with ${op} ${String(bound)} characters`;
      return `a number ${op} ${String(bound)}`;
    }
    case 'invalid_format':
      return issue.format === 'regex' && issue.pattern ? `a string matching ${issue.pattern}` : `a valid ${issue.format}`;
    case 'not_multiple_of':
      return `a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'one of the allowed forms';
    default:
      return 'a valid value';
  }
}

function literal(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

function valueAt(root: unknown, path: Path): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

// ---- schema walking: find the schema that governs a path ----

/** One wrapper level down (optional, default, pipe…), or undefined when `s` wraps nothing. */
function unwrapOnce(s: z.core.$ZodType): z.core.$ZodType | undefined {
  if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) return s.unwrap();
  if (s instanceof z.ZodPrefault || s instanceof z.ZodReadonly) return s.unwrap();
  if (s instanceof z.ZodPipe) return s.in;
  return undefined;
}

function expectationOf(s: z.core.$ZodType): string | undefined {
  for (let cur: z.core.$ZodType | undefined = s; cur; cur = unwrapOnce(cur)) {
    const text = expectations.get(cur);
    if (text !== undefined) return text;
  }
  return undefined;
}

function schemaAt(s: z.core.$ZodType, path: Path): z.core.$ZodType | undefined {
  if (path.length === 0) return s;
  const [head, ...rest] = path;
  const inner = unwrapOnce(s);
  if (inner) return schemaAt(inner, path);
  if (s instanceof z.ZodObject && typeof head === 'string') {
    const field = (s.shape as Record<string, z.core.$ZodType>)[head];
    return field && schemaAt(field, rest);
  }
  // Arrays take indexes and records names: in a union of both (`logCategories`) the path picks the branch.
  if (s instanceof z.ZodArray) return typeof head === 'number' ? schemaAt(s.element, rest) : undefined;
  if (s instanceof z.ZodRecord) return typeof head === 'string' ? schemaAt(s.valueType, rest) : undefined;
  if (s instanceof z.ZodUnion) {
    for (const option of s.options as readonly z.core.$ZodType[]) {
      const found = schemaAt(option, path);
      if (found) return found;
    }
  }
  return undefined;
}

function innermost(s: z.core.$ZodType): z.core.$ZodType {
  let cur = s;
  for (let next = unwrapOnce(cur); next; next = unwrapOnce(cur)) cur = next;
  return cur;
}

function objectKeysAt(schema: z.core.$ZodType, path: Path): string[] {
  const node = schemaAt(schema, path);
  if (!node) return [];
  const inner = innermost(node);
  // In a union (`workerTtl`), the keys are those of its object form.
  const candidates = inner instanceof z.ZodUnion ? (inner.options as readonly z.core.$ZodType[]) : [node];
  for (const candidate of candidates) {
    const obj = innermost(candidate);
    if (obj instanceof z.ZodObject) return Object.keys(obj.shape);
  }
  return [];
}

function recordKeySchemaAt(schema: z.core.$ZodType, path: Path): z.core.$ZodType | undefined {
  const node = schemaAt(schema, path);
  const record = node && innermost(node);
  return record instanceof z.ZodRecord ? record.keyType : undefined;
}
