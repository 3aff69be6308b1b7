/**
 * The tool registry that `snakepit gen types` fills through declaration merging, and the call
 * signature types it makes precise. Empty (nothing generated): every call is typed as before.
 */

/** A Python `int`: a number within ±2^53, a bigint beyond (docs/protocol.md, "Value mapping"). */
export type PyInt = number | bigint;

/** What a value Python cannot encode becomes under `serialization: 'graceful'` (the default). */
export interface UnserializableValue {
  readonly __snakepit_unserializable__: true;
  /** `module.Class` of the value. */
  readonly type: string;
  /** Its `repr()`, at most 500 characters. */
  readonly repr: string;
}

/** One tool in the registry: what `execute` takes and resolves with, what `stream` yields. */
export interface ToolEntry {
  args: object;
  result: unknown;
  chunk: unknown;
  streaming: boolean;
}

/** A tool name a pool routes itself (`execute_tool`) without listing it: untyped. */
export interface UntypedToolEntry extends ToolEntry {
  args: Record<string, unknown>;
  result: unknown;
  chunk: unknown;
}

/**
 * Filled by the file `snakepit gen types` writes (`declare module 'snakepit'`):
 * `pools` maps each pool to its tools, `defaultPool` is the pool a call without `pool` goes to.
 * @example
 * declare module 'snakepit' {
 *   interface SnakepitToolRegistry {
 *     defaultPool: 'default';
 *     pools: { default: { add: { args: { a: number; b: number }; result: number; chunk: number; streaming: false } } };
 *   }
 * }
 */
export interface SnakepitToolRegistry {}

type Pools = SnakepitToolRegistry extends { pools: infer P extends Record<string, Record<string, ToolEntry>> } ? P : {};

/** True once generated types are in the program. */
export type HasToolTypes = keyof Pools extends never ? false : true;

/** Pool names calls may pass (`string` without generated types). */
export type PoolName = HasToolTypes extends true ? keyof Pools & string : string;

/** The pool a call without `pool` runs in: the config's `default` or only pool. */
export type DefaultPool = HasToolTypes extends true
  ? SnakepitToolRegistry extends { defaultPool: infer D extends string } ? D : never
  : string;

type ToolsOf<P> = P extends keyof Pools ? Pools[P] : never;
type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: 0 } & string;
type IsOpen<P> = string extends keyof ToolsOf<P> ? true : false;

/** Tool names of pool `P`: its tools (plus any string when the pool routes names itself). */
export type ToolName<P> = HasToolTypes extends true ? (IsOpen<P> extends true ? KnownKeys<ToolsOf<P>> | (string & {}) : KnownKeys<ToolsOf<P>>) : string;

type Entry<P, K> = K extends keyof ToolsOf<P> ? ToolsOf<P>[K] : UntypedToolEntry;

/** The `args` of tool `K` in pool `P`. */
export type ToolArgs<P, K> = HasToolTypes extends true ? (Entry<P, K> extends { args: infer A } ? A : never) : Record<string, unknown>;

/** What `execute` of tool `K` in pool `P` resolves with. */
export type ToolResult<P, K> = HasToolTypes extends true ? (Entry<P, K> extends { result: infer R } ? R : never) : unknown;

/** What `stream` of tool `K` in pool `P` yields. */
export type ToolChunk<P, K> = HasToolTypes extends true ? (Entry<P, K> extends { chunk: infer C } ? C : never) : unknown;

/**
 * The type argument of `execute<T>` and friends. Without generated types, any `T` (as before). With
 * them the result type comes from the registry, and a type argument fails to compile.
 */
export type ResultTypeArgument = HasToolTypes extends true ? ResultFromGeneratedTypes : unknown;

/** The default of that type argument: "take the type from the registry". */
export interface ResultFromGeneratedTypes {
  readonly 'generated types decide the result type: remove the type argument': never;
}

type Given<T> = [T] extends [ResultFromGeneratedTypes] ? false : true;

/** `T` when given (no generated types), else the registry's result type. */
export type CallResult<T, P, K> = Given<T> extends true ? T : ToolResult<P, K>;

/** `T` when given (no generated types), else the registry's chunk type. */
export type CallChunk<T, P, K> = Given<T> extends true ? T : ToolChunk<P, K>;

/** Call options whose `pool` selects `P`: optional for the default pool, required for the others. */
export type PoolOptions<P, O extends { pool?: string }> = Omit<O, 'pool'> & ([P] extends [DefaultPool] ? { pool?: P } : { pool: P });

/** The arguments after the tool name: `args` optional when every parameter is, then the options. */
export type CallRest<P, K, O> = {} extends ToolArgs<P, K> ? [args?: ToolArgs<P, K>, options?: O] : [args: ToolArgs<P, K>, options?: O];
