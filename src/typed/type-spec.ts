/** The tool type specs Python reports (`python -m snakepit_bridge.type_specs`, the handshake's `types`): the JSON contract. */
import type { TensorDType } from '../tensor.js';

/** Version of the spec format; a reader refuses others. */
export const TYPE_SPEC_VERSION = 1;

/** A literal value a `Literal[...]` or an `Enum` may hold. */
export type LiteralValue = string | number | boolean | null;

/** Python kinds with no parameters. The `datetime`…`path` kinds go as text or seconds (graceful serialization). */
export type ScalarKind =
  | 'str' | 'int' | 'float' | 'bool' | 'bytes' | 'none' | 'any'
  | 'datetime' | 'date' | 'time' | 'timedelta' | 'decimal' | 'uuid' | 'path' | 'arrow_table';

/** One field of a TypedDict, dataclass, namedtuple or pydantic model. */
export interface FieldSpec {
  name: string;
  type: TypeNode;
  /** Must be given (no default; a TypedDict's required key). */
  required: boolean;
  description?: string;
  default?: unknown;
}

/** A named record type (in `definitions`). `origin` decides whether a result may leave fields out (TypedDict only). */
export interface ObjectNode {
  kind: 'object';
  name: string;
  origin: 'typeddict' | 'dataclass' | 'namedtuple' | 'pydantic' | 'schema';
  fields: FieldSpec[];
  /** Extra keys and their type (pydantic `extra='allow'`). */
  extra?: TypeNode;
  doc?: string | null;
}

/** An `Enum` (in `definitions`): it goes as its value. */
export interface EnumNode {
  kind: 'enum';
  name: string;
  values: LiteralValue[];
  doc?: string | null;
}

/** A Python type, as Python describes it; `src/typed/wire-type.ts` turns it into what the wire carries. */
export type TypeNode =
  | { kind: ScalarKind }
  | { kind: 'unknown'; reason: string }
  | { kind: 'list' | 'set'; items: TypeNode }
  | { kind: 'tuple'; items: TypeNode[] }
  | { kind: 'dict'; keys: TypeNode; values: TypeNode }
  | { kind: 'union'; options: TypeNode[] }
  | { kind: 'literal'; values: LiteralValue[] }
  | { kind: 'ref'; name: string }
  | { kind: 'tensor'; dtype: TensorDType | null }
  /** A class with no mapping: its instance goes as its public fields, or by the serialization policy. */
  | { kind: 'opaque'; name: string }
  /** Functions, classes, modules: never serialisable, always by the serialization policy. */
  | { kind: 'unserializable'; name: string }
  | ObjectNode
  | EnumNode;

/** One parameter of a tool. */
export interface ParamSpec extends FieldSpec {}

/** Named types the nodes of one adapter (or one tool) reference by `{kind: 'ref'}`. */
export type Definitions = Readonly<Record<string, TypeNode>>;

/** The types of one tool. */
export interface ToolTypeSpec {
  name: string;
  description: string;
  /** Declared `supports_streaming` or a generator. */
  streaming: boolean;
  params: ParamSpec[];
  /** `**kwargs: X`: other keys are allowed, of type X. */
  extra_params: TypeNode | null;
  /** What `execute` resolves with (a generator's items as a list). */
  result: TypeNode;
  /** What each streamed chunk is. */
  chunk: TypeNode;
  /** False for a name the adapter routes itself (`execute_tool`) and only lists. */
  declared: boolean;
}

/** What `python -m snakepit_bridge.type_specs --adapter X` prints. */
export interface AdapterTypeSpec {
  version: number;
  adapter: string;
  /** The adapter routes names in `execute_tool` it does not list: other tool names are allowed, untyped. */
  open: boolean;
  tools: ToolTypeSpec[];
  definitions: Record<string, TypeNode>;
}

/** A tool's `types` in the worker's handshake (pools with `validateArgs`); `error` when Python could not describe it. */
export interface HandshakeToolTypes {
  params?: ParamSpec[];
  extra_params?: TypeNode | null;
  definitions?: Record<string, TypeNode>;
  error?: string;
}
