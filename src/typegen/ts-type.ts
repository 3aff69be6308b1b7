/** Wire types as TypeScript type text: one line per type, objects over several lines when their fields carry docs. */
import { union, type Direction, type WireField, type WireType } from '../typed/wire-type.js';

/** Names the type aliases of named Python types, per direction; records each one asked for. */
export interface AliasNamer {
  alias(name: string, direction: Direction): string;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const INDENT = '  ';

/** `'text'` with TypeScript escapes. */
export function quote(text: string): string {
  return `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

/** A property key: bare when an identifier, else quoted. */
export function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : quote(name);
}

/** Text safe inside a `/* … *\/` comment. */
export function commentText(text: string): string {
  return text.replace(/\*\//g, '*\u200b/').replace(/\s+/g, ' ').trim();
}

/** A JSDoc block at `indent` (empty lines kept), or '' when there is nothing to say. */
export function jsDoc(lines: readonly string[], indent: string): string {
  const body = lines.flatMap((l) => l.split('\n')).map((l) => l.replace(/\*\//g, '*\u200b/').trimEnd());
  while (body.length > 0 && body[body.length - 1] === '') body.pop();
  if (body.length === 0) return '';
  if (body.length === 1) return `${indent}/** ${body[0]} */\n`;
  return `${indent}/**\n${body.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)).join('\n')}\n${indent} */\n`;
}

/** Renders wire types of one direction (`readonly` arrays for arguments, so callers may pass theirs). */
export class TsTypeWriter {
  constructor(
    private readonly direction: Direction,
    private readonly namer: AliasNamer,
  ) {}

  /** The type text; `indent` is the indentation of the line the type starts on. */
  write(type: WireType, indent = ''): string {
    const text = this.#text(type, indent);
    // Notes on what the bridge did to a value (`datetime` -> ISO text, an object -> its fields) stay visible.
    return 'why' in type && type.why && type.t !== 'unknown' && type.t !== 'never' && type.t !== 'array' ? `${text} /* ${commentText(type.why)} */` : text;
  }

  #text(type: WireType, indent: string): string {
    switch (type.t) {
      case 'string':
      case 'number':
      case 'boolean':
      case 'null':
        return type.t;
      case 'int':
        return 'PyInt';
      case 'bytes':
        return this.direction === 'arg' ? 'Uint8Array | ZeroCopyRef' : 'Uint8Array';
      case 'marker':
        return 'UnserializableValue';
      case 'tensor': {
        // An argument may also be a value put in shared memory once (`sp.zeroCopy(value)`).
        const tensor = type.dtype ? `Tensor<${quote(type.dtype)}>` : 'Tensor';
        return this.direction === 'arg' ? `${tensor} | ZeroCopyRef` : tensor;
      }
      case 'unknown':
        return type.why ? `unknown /* ${commentText(type.why)} */` : 'unknown';
      case 'never':
        return `never /* ${commentText(type.why)} */`;
      case 'literal':
        return typeof type.value === 'string' ? quote(type.value) : String(type.value);
      case 'array':
        return `${this.#readonly()}${this.#element(type.items, indent)}[]`;
      case 'tuple':
        return `${this.#readonly()}[${type.items.map((i) => this.write(i, indent)).join(', ')}]`;
      case 'record':
        return `{ [key: string]: ${this.write(type.values, indent)} }`;
      case 'union':
        return type.options.map((o) => this.write(o, indent)).join(' | ');
      case 'ref':
        return this.namer.alias(type.name, this.direction);
      case 'object':
        return this.object(type.fields, type.extra, indent);
    }
  }

  /** An object type; fields with docs (or many fields) put it over several lines. */
  object(fields: readonly WireField[], extra: WireType | undefined, indent: string): string {
    const inner = indent + INDENT;
    const members = fields.map((f) => ({ doc: f.doc, text: `${propertyKey(f.name)}${f.optional ? '?' : ''}: ${this.write(f.type, inner)};` }));
    if (extra) {
      // An index signature must admit every named property's type too.
      members.push({ doc: undefined, text: `[key: string]: ${this.write(union([extra, ...fields.map((f) => f.type)]), inner)};` });
    }
    if (members.length === 0) return '{}';
    const oneLine = `{ ${members.map((m) => m.text).join(' ').slice(0, -1)} }`;
    if (members.every((m) => !m.doc) && oneLine.length + indent.length <= 110 && !oneLine.includes('\n')) return oneLine;
    return `{\n${members.map((m) => `${jsDoc(m.doc ? [m.doc] : [], inner)}${inner}${m.text}`).join('\n')}\n${indent}}`;
  }

  #element(items: WireType, indent: string): string {
    const text = this.write(items, indent);
    return items.t === 'union' || (items.t === 'unknown' && items.why) || items.t === 'never' ? `(${text})` : text;
  }

  #readonly(): string {
    return this.direction === 'arg' ? 'readonly ' : '';
  }
}
