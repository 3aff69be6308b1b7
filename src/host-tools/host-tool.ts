/**
 * One host tool: a JS function Python adapters may call through `session_context.call_host_tool`.
 * Holds its definition, checks arguments against its parameter list or zod schema, and builds
 * the spec Python sees (`session_context.host_tools`).
 */
import { z } from 'zod';
import { describeValue, formatIssues } from '../config/format-issues.js';
import { type ConfigIssue, ValidationError } from '../errors.js';

/** One parameter, in the original's shape (`%{name, type, required, description}`). */
export interface HostToolParameter {
  name: string;
  /**
   * `string`/`str`, `integer`/`int`, `number`/`float`/`double`, `boolean`/`bool`,
   * `map`/`object`/`dict`, `list`/`array`/`embedding`, `binary`/`bytes`, `any`; case-insensitive.
   * Unknown names are not checked. @default 'any'
   */
  type?: string;
  /** @default false */
  required?: boolean;
  description?: string;
  /** Filled in when the argument is missing (or undefined). */
  default?: unknown;
}

/** What a running tool knows about its call. */
export interface HostToolContext {
  toolName: string;
  /** The session of the Python call on whose behalf the tool runs; undefined for none. */
  sessionId: string | undefined;
  workerId: string | undefined;
  pool: string | undefined;
  /** The correlation id of that Python call (the host call's own), when there is one. */
  correlationId?: string | undefined;
  /** Aborted when the call times out or is cancelled; long tools should watch it. */
  signal: AbortSignal;
}

/** The function behind a host tool. */
export type HostToolFn<A = any, R = unknown> = (args: A, context: HostToolContext) => R | Promise<R>;

/** Options of `registerTool`. */
export interface RegisterToolOptions {
  /** Shown to Python in the tool's spec. @default '' */
  description?: string;
  /** A list in the original's shape, or a zod schema (a `z.object` lists its fields). @default [] (no checks) */
  parameters?: readonly HostToolParameter[] | z.ZodType;
  /** Whether Python may see and call the tool. @default false */
  exposedToPython?: boolean;
  /** Per-tool timeout when called from Python, in ms; overrides the host default. @default undefined */
  timeoutMs?: number;
}

/** The description of a tool that Python sees. */
export interface HostToolSpec {
  name: string;
  description: string;
  parameters: { name: string; type: string; required: boolean; description?: string; default?: unknown }[];
}

/** One issue of an argument check (same shape as a config issue). */
export type HostToolArgIssue = ConfigIssue;

type Check = { expected: string; ok: (value: unknown) => boolean };

const isPlainObject = (v: unknown): boolean => {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

// The original's type names plus JS-friendly synonyms; anything else is not checked.
const STRING: Check = { expected: 'a string', ok: (v) => typeof v === 'string' };
const INTEGER: Check = { expected: 'an integer', ok: (v) => Number.isInteger(v) || typeof v === 'bigint' };
const NUMBER: Check = { expected: 'a number', ok: (v) => typeof v === 'number' || typeof v === 'bigint' };
const BOOLEAN: Check = { expected: 'a boolean', ok: (v) => typeof v === 'boolean' };
const MAP: Check = { expected: 'a map (plain object)', ok: isPlainObject };
const LIST: Check = { expected: 'a list (array)', ok: Array.isArray };
const BINARY: Check = { expected: 'binary (Uint8Array)', ok: (v) => v instanceof Uint8Array };
const CHECKS: Readonly<Record<string, Check>> = {
  string: STRING, str: STRING,
  integer: INTEGER, int: INTEGER,
  number: NUMBER, float: NUMBER, double: NUMBER,
  boolean: BOOLEAN, bool: BOOLEAN,
  map: MAP, object: MAP, dict: MAP,
  list: LIST, array: LIST, embedding: LIST,
  binary: BINARY, bytes: BINARY,
};

const TOOL_NAME = /^\S+$/;

/** A registered host tool. Created by `ToolRegistry.register`. */
export class HostTool {
  readonly name: string;
  readonly description: string;
  readonly exposedToPython: boolean;
  /** The session that owns this tool; undefined for a global tool. */
  readonly sessionId: string | undefined;
  /** Per-tool timeout from Python, in ms; undefined: the host default. */
  readonly timeoutMs: number | undefined;
  readonly #fn: HostToolFn;
  readonly #params: readonly HostToolParameter[] | undefined;
  readonly #schema: z.core.$ZodType | undefined;
  #spec: HostToolSpec | undefined;

  constructor(name: string, fn: HostToolFn, options: RegisterToolOptions = {}, sessionId?: string) {
    if (typeof name !== 'string' || !TOOL_NAME.test(name)) invalid('name', 'a non-empty string without whitespace', name);
    if (typeof fn !== 'function') invalid('fn', 'a function', fn);
    const { description = '', parameters, exposedToPython = false, timeoutMs } = options;
    if (typeof description !== 'string') invalid('description', 'a string', description);
    if (typeof exposedToPython !== 'boolean') invalid('exposedToPython', 'a boolean', exposedToPython);
    if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
      invalid('timeoutMs', 'an integer >= 1', timeoutMs);
    }
    if (sessionId !== undefined && (typeof sessionId !== 'string' || sessionId === '')) {
      invalid('sessionId', 'a non-empty string', sessionId);
    }
    if (isZodSchema(parameters)) this.#schema = parameters;
    else if (parameters === undefined) this.#params = [];
    else if (Array.isArray(parameters)) this.#params = checkedParams(parameters as readonly HostToolParameter[]);
    else invalid('parameters', 'an array of parameters or a zod schema', parameters);

    this.name = name;
    this.#fn = fn;
    this.description = description;
    this.exposedToPython = exposedToPython;
    this.timeoutMs = timeoutMs;
    this.sessionId = sessionId;
  }

  /** The description Python sees. */
  spec(): HostToolSpec {
    this.#spec ??= {
      name: this.name,
      description: this.description,
      parameters: this.#schema ? schemaParams(this.#schema) : this.#params!.map(listParam),
    };
    // Copies: callers may encode or edit the spec without changing ours.
    return { ...this.#spec, parameters: this.#spec.parameters.map((p) => ({ ...p })) };
  }

  /**
   * Checks `args` and returns those to pass to the function: a zod schema's parsed output (with
   * its defaults), or `args` with list defaults filled in. Extra arguments pass through (unless
   * the schema is strict). Throws `ValidationError` code `invalid_host_tool_args`, details
   * `{ tool, issues }` naming every bad field.
   */
  validate(args: Record<string, unknown>): Record<string, unknown> {
    if (this.#schema) {
      const result = z.safeParse(this.#schema, args);
      if (result.success) return result.data as Record<string, unknown>;
      const issues = formatIssues(result.error.issues, this.#schema, args).map((i) => ({
        ...i,
        message: `Expected ${i.path === '' ? 'the arguments' : `\`${i.path}\``} to be ${i.expected}, got ${i.received}`,
      }));
      throw this.#invalidArgs(issues);
    }
    if (!isPlainObject(args)) {
      throw this.#invalidArgs([issue('', 'a map of arguments', args, `Expected the arguments to be a map, got ${describeValue(args)}`)]);
    }
    const out: Record<string, unknown> = { ...args };
    const issues: HostToolArgIssue[] = [];
    for (const p of this.#params!) {
      let value = out[p.name];
      if (value === undefined && p.default !== undefined) value = out[p.name] = p.default;
      const check = CHECKS[(p.type ?? 'any').toLowerCase()];
      if (value === undefined) {
        if (p.required) {
          issues.push(issue(p.name, check?.expected ?? 'a value', value, `Missing required argument \`${p.name}\``));
        }
        continue;
      }
      if (value === null && !p.required) continue;
      if (check && !check.ok(value)) {
        const received = describeValue(value);
        issues.push(issue(p.name, check.expected, value, `Expected \`${p.name}\` to be ${check.expected}, got ${received}`));
      }
    }
    if (issues.length > 0) throw this.#invalidArgs(issues);
    return out;
  }

  /** Validates `args`, then runs the function; a synchronous throw becomes a rejection. */
  async invoke(args: Record<string, unknown>, context: HostToolContext): Promise<unknown> {
    return this.#fn(this.validate(args), context);
  }

  #invalidArgs(issues: HostToolArgIssue[]): ValidationError {
    const lines = issues.map((i) => `  - ${i.message}`).join('\n');
    return new ValidationError(`Invalid arguments for host tool ${this.name}:\n${lines}`, 'invalid_host_tool_args', {
      tool: this.name,
      issues,
    });
  }
}

function isZodSchema(value: unknown): value is z.core.$ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value && typeof value._zod === 'object';
}

function invalid(field: string, expected: string, value: unknown): never {
  const received = describeValue(value);
  throw new ValidationError(`Expected host tool \`${field}\` to be ${expected}, got ${received}`, 'invalid_argument', {
    field,
    expected,
    received,
  });
}

function issue(path: string, expected: string, value: unknown, message: string): HostToolArgIssue {
  return { path, expected, received: describeValue(value), message };
}

function checkedParams(params: readonly HostToolParameter[]): readonly HostToolParameter[] {
  const seen = new Set<string>();
  params.forEach((p, i) => {
    const at = `parameters[${i}]`;
    if (typeof p !== 'object' || p === null) invalid(at, 'a parameter object', p);
    if (typeof p.name !== 'string' || p.name === '') invalid(`${at}.name`, 'a non-empty string', p.name);
    if (seen.has(p.name)) invalid(`${at}.name`, 'a name not used by another parameter', p.name);
    if (p.type !== undefined && typeof p.type !== 'string') invalid(`${at}.type`, 'a type name (string)', p.type);
    seen.add(p.name);
  });
  return params.map((p) => ({ ...p })); // our own copy: later edits by the caller do not change the tool
}

function listParam(p: HostToolParameter): HostToolSpec['parameters'][number] {
  return {
    name: p.name,
    type: p.type ?? 'any',
    required: p.required ?? false,
    ...(p.description === undefined ? {} : { description: p.description }),
    ...(p.default === undefined ? {} : { default: p.default }),
  };
}

// ---- spec from a zod schema ----
// Dispatch on `def.type` rather than `instanceof`: the caller's zod may be another copy than ours.

type AnySchema = z.core.$ZodType;
interface Def {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  shape?: Record<string, AnySchema>;
  entries?: Record<string, unknown>;
  values?: readonly unknown[];
  defaultValue?: unknown;
}
const defOf = (s: AnySchema): Def => s._zod.def as unknown as Def;

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch']);

/** One wrapper level down (optional, default, pipe…), or undefined when `s` wraps nothing. */
function unwrapOnce(s: AnySchema): AnySchema | undefined {
  const def = defOf(s);
  if (WRAPPERS.has(def.type)) return def.innerType;
  if (def.type === 'pipe') return def.in;
  return undefined;
}

function innermost(s: AnySchema): AnySchema {
  let cur = s;
  for (let next = unwrapOnce(cur); next; next = unwrapOnce(cur)) cur = next;
  return cur;
}

function schemaParams(schema: AnySchema): HostToolSpec['parameters'] {
  const obj = defOf(innermost(schema));
  if (obj.type !== 'object' || !obj.shape) return [];
  return Object.entries(obj.shape).map(([name, field]) => {
    const description = descriptionOf(field);
    const fallback = defaultOf(field);
    return {
      name,
      type: typeOf(field),
      // How a zod object decides: a key may be absent when its schema has an `optin` (optional, default).
      required: field._zod.optin === undefined,
      ...(description === undefined ? {} : { description }),
      ...(fallback.has ? { default: fallback.value } : {}),
    };
  });
}

function descriptionOf(field: AnySchema): string | undefined {
  for (let cur: AnySchema | undefined = field; cur; cur = unwrapOnce(cur)) {
    const text = z.globalRegistry.get(cur)?.description ?? (cur as { description?: unknown }).description;
    if (typeof text === 'string') return text;
  }
  return undefined;
}

function defaultOf(field: AnySchema): { has: boolean; value?: unknown } {
  for (let cur: AnySchema | undefined = field; cur; cur = unwrapOnce(cur)) {
    const def = defOf(cur);
    if (def.type === 'default' || def.type === 'prefault') {
      const value = def.defaultValue; // a getter: calls a default function
      return value === undefined ? { has: false } : { has: true, value };
    }
  }
  return { has: false };
}

function typeOf(field: AnySchema): string {
  const s = innermost(field);
  const def = defOf(s);
  switch (def.type) {
    case 'string':
      return 'string';
    case 'number':
      // Classic zod's public `isInt` (z.number().int(), z.int(), z.int32()…).
      return (s as { isInt?: unknown }).isInt === true ? 'integer' : 'number';
    case 'bigint':
      return 'integer';
    case 'boolean':
      return 'boolean';
    case 'object':
    case 'record':
      return 'map';
    case 'array':
    case 'tuple':
      return 'list';
    case 'enum':
      return sameKind(Object.values(def.entries ?? {}));
    case 'literal':
      return sameKind(def.values ?? []);
    default:
      return 'any';
  }
}

/** The spec type of a set of literal values when they share one, else 'any'. */
function sameKind(values: readonly unknown[]): string {
  const kinds = new Set(values.map((v) => typeof v));
  if (kinds.size !== 1) return 'any';
  const [kind] = kinds;
  return kind === 'string' || kind === 'boolean' || kind === 'number' ? kind : 'any';
}
