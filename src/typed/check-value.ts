/** Checks a JS value against a wire type: host-side `validateArgs`, and what the round-trip tests hold results to. */
import { formatPath, describeValue } from '../config/format-issues.js';
import { Tensor } from '../tensor.js';
import { ZeroCopyRef } from '../transport/codec.js';
import { TsTypeWriter } from '../typegen/ts-type.js';
import type { Definitions } from './type-spec.js';
import { resolveRef, type WireMapper, type WireType } from './wire-type.js';

/** One mismatch: where, what the type wants, what the value is. */
export interface ValueIssue {
  /** `p.x`, `items[2]`: the path inside the checked value ('' for itself). */
  path: string;
  /** The TypeScript type expected there. */
  expected: string;
  /** The value, as `describeValue` shows it. */
  received: string;
}

/** Checks values of one direction against wire types whose refs resolve in `definitions`. */
export class ValueChecker {
  readonly #refs = new Map<string, WireType>();
  readonly #writer: TsTypeWriter;

  constructor(
    private readonly definitions: Definitions,
    private readonly mapper: WireMapper,
  ) {
    // Refs show as the Python class's own name in messages.
    this.#writer = new TsTypeWriter(mapper.direction, { alias: (name) => name.slice(name.lastIndexOf('.') + 1) });
  }

  /** Every mismatch of `value` against `type`, at `path` (empty when it fits). */
  check(value: unknown, type: WireType, path: readonly PropertyKey[] = []): ValueIssue[] {
    if (this.fits(value, type)) return [];
    const resolved = type.t === 'ref' ? this.#ref(type.name) : type;
    // An object that is one: its fields say what is wrong, more precisely than the whole.
    if (resolved.t === 'object' && isPlainObject(value)) return this.#objectIssues(value, resolved, path);
    return [this.issue(value, type, path)];
  }

  /** The issue of a value that does not fit `type`, at `path`. */
  issue(value: unknown, type: WireType, path: readonly PropertyKey[]): ValueIssue {
    return { path: formatPath(path), expected: this.#writer.write(type).replace(/ \/\*.*?\*\//g, ''), received: describeValue(value) };
  }

  /** Whether `value` fits `type`. */
  fits(value: unknown, type: WireType): boolean {
    switch (type.t) {
      case 'unknown':
        return true;
      case 'never':
        return false;
      case 'string':
        return typeof value === 'string';
      case 'number':
        return typeof value === 'number';
      case 'int':
        return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value));
      case 'boolean':
        return typeof value === 'boolean';
      case 'null':
        return value === null || value === undefined; // undefined goes as nil too
      case 'bytes':
        return value instanceof Uint8Array || (value instanceof ZeroCopyRef && !value.tensor && !value.arrow);
      case 'tensor': {
        const tensor = value instanceof ZeroCopyRef ? value.tensor : value instanceof Tensor ? value : undefined;
        return tensor !== undefined && (type.dtype === null || tensor.dtype === type.dtype);
      }
      case 'marker':
        return isPlainObject(value) && value.__snakepit_unserializable__ === true;
      case 'literal':
        return value === type.value || (type.value === null && value === undefined);
      case 'array':
        return Array.isArray(value) && value.every((v) => this.fits(v, type.items));
      case 'tuple':
        return Array.isArray(value) && value.length === type.items.length && type.items.every((t, i) => this.fits(value[i], t));
      case 'record':
        return isPlainObject(value) && Object.values(value).every((v) => this.fits(v, type.values));
      case 'union':
        return type.options.some((o) => this.fits(value, o));
      case 'ref':
        return this.fits(value, this.#ref(type.name));
      case 'object':
        return isPlainObject(value) && this.#objectIssues(value, type, []).length === 0;
    }
  }

  #objectIssues(value: Record<string, unknown>, type: Extract<WireType, { t: 'object' }>, path: readonly PropertyKey[]): ValueIssue[] {
    const issues: ValueIssue[] = [];
    const known = new Set<string>();
    for (const field of type.fields) {
      known.add(field.name);
      const v = value[field.name];
      if (v !== undefined) issues.push(...this.check(v, field.type, [...path, field.name]));
      else if (!field.optional && !this.fits(undefined, field.type)) issues.push(this.issue(undefined, field.type, [...path, field.name]));
    }
    if (type.extra) {
      for (const [key, v] of Object.entries(value)) if (!known.has(key)) issues.push(...this.check(v, type.extra, [...path, key]));
    }
    return issues;
  }

  #ref(name: string): WireType {
    let type = this.#refs.get(name);
    if (!type) this.#refs.set(name, (type = resolveRef(this.definitions, this.mapper, name)));
    return type;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
