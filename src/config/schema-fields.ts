/** Building blocks of the config schema: field types, each carrying the "expected" text its errors show. */
import { z } from 'zod';
import type { LogLevel } from '../logger.js';
import { expecting } from './format-issues.js';

export const posInt = () => expecting(z.number().int().min(1), 'an integer >= 1');
export const nonNegInt = () => expecting(z.number().int().min(0), 'an integer >= 0');
export const nonEmptyString = () => expecting(z.string().min(1), 'a non-empty string');
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  expecting(z.enum(values), `one of ${values.map((v) => `'${v}'`).join(' | ')}`);
export const stringArray = () => expecting(z.array(z.string()), 'an array of strings');

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'none'] as const satisfies readonly LogLevel[];
// The original (and Python's logging) spell it `warning`; accept that spelling, store ours.
export const logLevel = () =>
  expecting(z.enum([...LOG_LEVELS, 'warning']), `one of ${LOG_LEVELS.map((l) => `'${l}'`).join(' | ')}`).transform(
    (level): LogLevel => (level === 'warning' ? 'warn' : level),
  );

export const pythonClassPath = () =>
  expecting(z.string().regex(/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/), "a Python class path like 'package.module.ClassName'");

export const envRecord = () =>
  expecting(
    z.record(expecting(z.string().regex(/^[^=\0]+$/), "an environment variable name (non-empty, no '=')"), z.string()),
    'an object of string values',
  );

export const workerTtl = () =>
  expecting(
    z.union([
      z.literal('infinity'),
      z.strictObject({ value: posInt(), unit: oneOf(['seconds', 'minutes', 'hours']) }),
    ]),
    "'infinity' or { value: integer >= 1, unit: 'seconds' | 'minutes' | 'hours' }",
  );

export const infinityOrPosInt = () =>
  expecting(z.union([z.literal('infinity'), posInt()]), "'infinity' or an integer >= 1");

/** Tool name -> timeout of its calls in ms, or `'infinity'` (no timeout). */
export const toolTimeouts = () =>
  expecting(z.record(z.string().min(1), z.union([z.literal('infinity'), z.number().int().min(1)])), "an object of tool names to timeouts in ms (integers >= 1) or 'infinity'");

type NoDefault<T> = T extends z.ZodDefault<infer I> ? I : T extends z.ZodPrefault<infer I> ? I : T;
/** A shape's fields without their defaults, all optional. */
export type Loosened<S extends Record<string, z.ZodType>> = { [K in keyof S]: z.ZodOptional<NoDefault<S[K]>> };

/** The same fields without their defaults, all optional: for overrides, where "unset" must stay visible. */
export function loosen<S extends Record<string, z.ZodType>>(shape: S): Loosened<S> {
  const out: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(shape)) {
    const inner = field instanceof z.ZodDefault || field instanceof z.ZodPrefault ? (field.unwrap() as z.ZodType) : field;
    out[key] = field.description === undefined ? inner.optional() : inner.optional().describe(field.description);
  }
  return out as Loosened<S>;
}
