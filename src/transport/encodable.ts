/**
 * What cannot cross the wire, and where it sits: the slow diagnosis that runs only after an encode
 * failed (or nested deeper than Python's msgpack can read), so the normal path pays nothing.
 */
import { formatPath } from '../config/format-issues.js';
import { ValidationError } from '../errors.js';

/**
 * Nesting Python's msgpack unpacker accepts: 1024 non-empty containers, counted from the frame's
 * root (its C stack; one level more raises `StackError`, which on the pipe is an undecodable frame).
 */
export const MAX_NESTING_DEPTH = 1024;

/** Why a value cannot be sent. */
export type UnencodableReason = 'circular' | 'too_deep' | 'function' | 'symbol';

/** Thrown by the packer for a function (msgpackr would write `null`: silent data loss). */
export const FUNCTION_FOUND: unique symbol = Symbol('snakepit.function_found');

/**
 * The typed error for `value`, which failed to encode with `cause` (or, with no cause, nests too
 * deep): names the first place that cannot cross. `argsKey` names the call's args inside `value`
 * (the pipe's call frame): paths inside them are given from the args (`message.self`), others from
 * `value`'s root. `opaque` values are leaves (an extension encodes them). Undefined when nothing
 * in `value` explains the failure (the caller rethrows `cause`).
 */
export function unencodableError(value: unknown, cause: unknown, opaque: (v: object) => boolean, argsKey?: PropertyKey): ValidationError | undefined {
  const found = findUnencodable(value, opaque);
  if (!found) return undefined;
  const path = formatPath(argsKey !== undefined && found.path[0] === argsKey ? found.path.slice(1) : found.path);
  const where = path === '' ? 'the arguments' : `\`${path}\``;
  return new ValidationError(`Cannot send ${WHAT[found.reason]} at ${where}`, 'invalid_args', { path, reason: found.reason }, cause === FUNCTION_FOUND ? undefined : cause);
}

const WHAT: Record<UnencodableReason, string> = {
  circular: 'a circular reference (it points back to a value that contains it)',
  too_deep: `a value nested deeper than ${MAX_NESTING_DEPTH} levels`,
  function: 'a function',
  symbol: 'a Symbol',
};

/**
 * The first place in `value` (depth-first, keys in order) that cannot be encoded. Iterative, so a
 * nesting that overflowed the packer's stack does not overflow this one; it stops descending at
 * `MAX_NESTING_DEPTH`, which bounds the ancestor lists it keeps for cycles.
 */
export function findUnencodable(value: unknown, opaque: (v: object) => boolean = () => false): { path: PropertyKey[]; reason: UnencodableReason } | undefined {
  const stack: { value: unknown; path: PropertyKey[]; ancestors: readonly object[] }[] = [{ value, path: [], ancestors: [] }];
  while (stack.length > 0) {
    const { value: v, path, ancestors } = stack.pop()!;
    if (typeof v === 'function') return { path, reason: 'function' };
    if (typeof v === 'symbol') return { path, reason: 'symbol' };
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v) || v instanceof ArrayBuffer || opaque(v)) continue;
    if (ancestors.includes(v)) return { path, reason: 'circular' };
    const entries: [PropertyKey, unknown][] = Array.isArray(v) ? v.map((item, i) => [i, item]) : v instanceof Map ? [...(v as Map<PropertyKey, unknown>).entries()] : Object.entries(v);
    // Python counts non-empty containers only.
    if (entries.length === 0) continue;
    if (ancestors.length + 1 > MAX_NESTING_DEPTH) return { path, reason: 'too_deep' };
    const below = [...ancestors, v];
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], path: [...path, entries[i]![0]], ancestors: below }); // reversed: first key first
  }
  return undefined;
}

/**
 * Whether `value` nests more than `limit` non-empty containers (arrays, Maps, objects with
 * enumerable keys; `opaque` ones are leaves), as Python's unpacker will count them. Scalars cost one
 * `typeof` each, so the caller runs it only when the body is long enough to nest that deep (each
 * level is at least one byte): about 2% of an encode for 10k numbers, 8% for records (bench/encode-call.ts).
 */
export function nestsDeeperThan(value: unknown, limit: number, opaque: (v: object) => boolean = () => false): boolean {
  return typeof value === 'object' && value !== null && deeper(value, limit, opaque);
}

/** True when `v` is a container with more than `room` levels of containers in it (itself included). */
function deeper(v: object, room: number, opaque: (v: object) => boolean): boolean {
  if (Array.isArray(v)) {
    if (v.length === 0) return false;
    if (room === 0) return true;
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      // Inline check: an array of numbers costs one typeof per element, no call.
      if (typeof item === 'object' && item !== null && deeper(item, room - 1, opaque)) return true;
    }
    return false;
  }
  // Plain objects first: they skip the extension checks (an Arrow-table test is not free).
  if (Object.getPrototypeOf(v) !== Object.prototype) {
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || opaque(v)) return false;
    if (v instanceof Map) {
      if (v.size === 0) return false;
      if (room === 0) return true;
      for (const [key, item] of v as Map<unknown, unknown>) {
        if ((typeof key === 'object' && key !== null && deeper(key, room - 1, opaque)) || (typeof item === 'object' && item !== null && deeper(item, room - 1, opaque))) return true;
      }
      return false;
    }
  }
  for (const key in v) {
    if (room === 0) return true; // non-empty, and no room left
    const item: unknown = (v as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && deeper(item, room - 1, opaque)) return true;
  }
  return false;
}

/**
 * Python receives a call's args as keyword arguments: anything but an object (a number, a string,
 * an array, null, a typed array) is refused on the host, before dispatch. Undefined when they are fine.
 */
export function callArgsError(tool: string, args: unknown): ValidationError | undefined {
  if (typeof args === 'object' && args !== null && !Array.isArray(args) && !ArrayBuffer.isView(args)) return undefined;
  const got = args === null ? 'null' : Array.isArray(args) ? 'an array' : ArrayBuffer.isView(args) ? 'a typed array' : `a ${typeof args}`;
  return new ValidationError(`The args of '${tool}' must be an object of named arguments, got ${got}`, 'invalid_args', { tool, path: '', reason: 'not_an_object', got });
}
