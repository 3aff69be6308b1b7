/** What a Python type becomes on the wire, per direction: the one home of the value mapping of docs/protocol.md for types. */
import type { TensorDType } from '../tensor.js';
import type { Definitions, FieldSpec, LiteralValue, ObjectNode, TypeNode } from './type-spec.js';

/** `arg`: what the host may send for a parameter. `result`: what arrives from a return value or chunk. */
export type Direction = 'arg' | 'result';

/** The pool's `serialization` option: what a value with no mapping becomes. */
export type SerializationPolicy = 'graceful' | 'repr' | 'strict';

/** One field of an object on the wire. */
export interface WireField {
  name: string;
  type: WireType;
  optional: boolean;
  doc?: string | undefined;
}

/**
 * A type as the wire carries it. `int` is a Python int: a number when within ±2^53, a bigint beyond.
 * `why` says why a type is `unknown` or `never`, or notes what happens to it on the way.
 */
export type WireType =
  | { t: 'string' | 'number' | 'int' | 'boolean' | 'null' | 'bytes' | 'marker'; why?: string }
  | { t: 'tensor'; dtype: TensorDType | null }
  | { t: 'unknown'; why?: string }
  | { t: 'never'; why: string }
  | { t: 'array'; items: WireType; why?: string }
  | { t: 'tuple'; items: WireType[] }
  | { t: 'record'; values: WireType; why?: string }
  | { t: 'object'; fields: WireField[]; extra?: WireType | undefined }
  | { t: 'literal'; value: LiteralValue }
  | { t: 'union'; options: WireType[] }
  | { t: 'ref'; name: string };

const SIMPLE: Readonly<Record<string, WireType>> = {
  str: { t: 'string' },
  int: { t: 'int' },
  float: { t: 'number' },
  bool: { t: 'boolean' },
  bytes: { t: 'bytes' },
  none: { t: 'null' },
  any: { t: 'unknown' },
};

// Python values the bridge converts before sending (serialization.py): what the host receives.
const CONVERTED: Readonly<Record<string, { t: 'string' | 'number'; why: string }>> = {
  datetime: { t: 'string', why: 'ISO 8601 text' },
  date: { t: 'string', why: 'ISO 8601 text' },
  time: { t: 'string', why: 'ISO 8601 text' },
  timedelta: { t: 'number', why: 'seconds' },
  decimal: { t: 'string', why: 'the decimal as text' },
  uuid: { t: 'string', why: 'the UUID as text' },
  path: { t: 'string', why: 'the path as text' },
};

/** Maps Python type nodes to wire types for one direction and serialization policy. */
export class WireMapper {
  constructor(
    readonly direction: Direction,
    readonly policy: SerializationPolicy = 'graceful',
  ) {}

  /** The wire type of `node`; refs stay refs (resolve them with `definition`). */
  map(node: TypeNode): WireType {
    const simple = SIMPLE[node.kind];
    if (simple) return simple;
    switch (node.kind) {
      case 'unknown':
        return { t: 'unknown', why: node.reason };
      case 'list':
        return { t: 'array', items: this.map(node.items) };
      case 'set':
        return { t: 'array', items: this.map(node.items), why: 'a set goes as an array' };
      case 'tuple':
        return { t: 'tuple', items: node.items.map((n) => this.map(n)) };
      case 'dict':
        return { t: 'record', values: this.map(node.values), ...(node.keys.kind === 'str' || node.keys.kind === 'any' ? {} : { why: 'map keys go as strings' }) };
      case 'union':
        return union(node.options.map((n) => this.map(n)));
      case 'literal':
        return union(node.values.map((value) => ({ t: 'literal', value })));
      case 'ref':
        return { t: 'ref', name: node.name };
      case 'tensor':
        return { t: 'tensor', dtype: node.dtype };
      case 'arrow_table':
        return { t: 'unknown', why: 'an Arrow table: an apache-arrow Table (ArrowIPC without apache-arrow)' };
      case 'opaque':
        return this.#opaque(node.name);
      case 'unserializable':
        return this.#unserializable(node.name);
      case 'object':
      case 'enum':
        return this.definition(node);
      default:
        return this.#converted(node.kind);
    }
  }

  /** The wire type of a named definition (an object or enum node). */
  definition(node: TypeNode): WireType {
    if (node.kind === 'enum') return union(node.values.map((value) => ({ t: 'literal', value })));
    if (node.kind !== 'object') return this.map(node);
    return { t: 'object', fields: node.fields.map((f) => this.#field(f, node)), extra: node.extra && this.map(node.extra) };
  }

  #field(field: FieldSpec, owner: ObjectNode): WireField {
    // Every field of a dataclass, namedtuple or model is in its result; a TypedDict may leave keys out.
    const optional = !field.required && (this.direction === 'arg' || owner.origin === 'typeddict');
    return { name: field.name, type: this.map(field.type), optional, doc: field.description };
  }

  #converted(kind: string): WireType {
    const converted = CONVERTED[kind];
    if (!converted) return { t: 'unknown', why: `'${kind}' is a type this version does not know` };
    return this.direction === 'result' ? converted : { t: 'unknown', why: `a ${kind} cannot be sent from the host (Python would get ${converted.why})` };
  }

  #opaque(name: string): WireType {
    if (this.direction === 'arg') return { t: 'unknown', why: `a ${name} cannot be sent from the host (Python would get a dict)` };
    const fields: WireType = { t: 'record', values: { t: 'unknown' }, why: `a ${name} goes as its public fields` };
    if (this.policy === 'repr') return union([fields, { t: 'string', why: 'its repr when it has no public fields' }]);
    return { ...fields, why: `${fields.why}; without any: ${this.policy === 'strict' ? 'the call fails (unserializable)' : 'the unserializable marker'}` };
  }

  #unserializable(name: string): WireType {
    if (this.direction === 'arg') return { t: 'unknown', why: `a ${name} cannot be sent from the host` };
    if (this.policy === 'repr') return { t: 'string', why: `a ${name} goes as its repr` };
    if (this.policy === 'strict') return { t: 'never', why: `a ${name} fails the call (unserializable)` };
    return { t: 'marker', why: `a ${name} goes as the unserializable marker` };
  }
}

/** Flattens, drops duplicates; `unknown` absorbs the rest; one option is itself. */
export function union(options: WireType[]): WireType {
  const flat: WireType[] = [];
  const seen = new Set<string>();
  for (const option of options.flatMap((o) => (o.t === 'union' ? o.options : [o]))) {
    if (option.t === 'unknown') return option;
    const key = JSON.stringify(option);
    if (!seen.has(key)) {
      seen.add(key);
      flat.push(option);
    }
  }
  return flat.length === 1 ? flat[0]! : { t: 'union', options: flat };
}

/** Resolves `ref` wire types against the definitions of the spec they came from. */
export function resolveRef(definitions: Definitions, mapper: WireMapper, name: string): WireType {
  const node = definitions[name];
  return node ? mapper.definition(node) : { t: 'unknown', why: `no definition of ${name}` };
}
