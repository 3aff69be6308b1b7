/** The options of `sp.map` / `sp.mapIterable`, their check, and the shapes a map reports. */
import { z } from 'zod';
import { describeValue, expecting, formatIssues } from '../config/format-issues.js';
import { ValidationError } from '../errors.js';
import type { CallOptions } from './task.js';

/** `'fail'`: the first failing input rejects the map (like `Promise.all`); `'settle'`: one outcome per input (like `Promise.allSettled`). */
export type MapMode = 'fail' | 'settle';

/** How far a map has come: inputs with a result (`done`, failed ones included), failed ones, all of them. */
export interface MapProgress {
  done: number;
  failed: number;
  total: number;
}

/** Options of `sp.map` / `sp.mapIterable`: a call's options (each chunk is one call), plus the map's own. */
export interface MapOptions extends Omit<CallOptions, 'timeoutMs'> {
  /**
   * Inputs per chunk: each chunk is one frame (or gRPC message) and one pool call, whose inputs Python
   * runs back to back. `'auto'` starts at 1 and grows (×4 per chunk) towards chunks of about 20 ms of
   * Python time, at most 16384 inputs or 1 MiB (measured from the first input), and smaller near the end
   * so that every worker gets a share (guides/map.md, "Chunk size"). @default 'auto'
   */
  chunkSize?: number | 'auto';
  /**
   * `'fail'`: the first failing input rejects the map with its error (`details.index` says which
   * input) and cancels the rest; `'settle'`: resolves with a `PromiseSettledResult` per input. @default 'fail'
   */
  mode?: MapMode;
  /** Chunks in flight at once. @default the pool's slots (workers × calls each runs at once); 1 slot's worth for a session */
  concurrency?: number;
  /**
   * Deadline of each chunk, as a call's (`execute`'s `timeoutMs`: queue wait + run); bound the whole
   * map with `signal: AbortSignal.timeout(ms)`. @default the pool's `defaultTimeoutMs`
   */
  timeoutMs?: number;
  /** Called each time results arrive (a chunk's inputs stream back as they finish); a throw fails the map with that error. */
  onProgress?: (progress: MapProgress) => void;
}

/** Options of a map through the facade (`sp.map`, `sp.mapIterable`). */
export interface MapCallOptions extends MapOptions {
  /** Pool to run in. @default 'default' (or the only pool) */
  pool?: string;
}

/** A map's options in settle mode: one `PromiseSettledResult` per input. */
export type SettleMapOptions = MapCallOptions & { mode: 'settle' };

/** A map's options checked, with the defaults of its own fields filled in. */
export interface ResolvedMapOptions {
  chunkSize: number | 'auto';
  mode: MapMode;
  concurrency: number | undefined;
  onProgress: ((progress: MapProgress) => void) | undefined;
  /** What each chunk's call gets. */
  call: CallOptions;
}

const positiveInt = expecting(z.number().int().min(1), 'an integer >= 1');

const schema = z.object({
  chunkSize: expecting(z.union([positiveInt, z.literal('auto')]), "an integer >= 1 or 'auto'").default('auto'),
  mode: expecting(z.enum(['fail', 'settle']), "'fail' or 'settle'").default('fail'),
  concurrency: positiveInt.optional(),
  timeoutMs: expecting(z.number().positive(), 'a number > 0').optional(),
  onProgress: z.custom<(p: MapProgress) => void>((v) => typeof v === 'function', { params: { expected: 'a function' } }).optional(),
});

/** Checks the map's own options (`invalid_argument`, naming the field, the expectation and the value) and splits off each chunk's call options. */
export function resolveMapOptions(options: MapCallOptions): ResolvedMapOptions {
  const { chunkSize, mode, concurrency, timeoutMs, onProgress, pool: _pool, ...call } = options;
  const parsed = schema.safeParse({ chunkSize, mode, concurrency, timeoutMs, onProgress });
  if (!parsed.success) {
    const issues = formatIssues(parsed.error.issues, schema, { chunkSize, mode, concurrency, timeoutMs, onProgress });
    throw new ValidationError(`Invalid map options:\n${issues.map((i) => `  - ${i.message}`).join('\n')}`, 'invalid_argument', { issues });
  }
  const resolved = parsed.data;
  return {
    chunkSize: resolved.chunkSize,
    mode: resolved.mode,
    concurrency: resolved.concurrency,
    onProgress: resolved.onProgress,
    call: timeoutMs === undefined ? call : { ...call, timeoutMs },
  };
}

/** The inputs as an array of argument maps; anything else is `invalid_argument` naming `inputs[i]`. */
export function inputArray(inputs: Iterable<Record<string, unknown>>): readonly Record<string, unknown>[] {
  if (inputs === null || typeof (inputs as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function' || typeof inputs === 'string') {
    throw new ValidationError('Expected `inputs` to be an array (or iterable) of argument maps', 'invalid_argument', { field: 'inputs', expected: 'an iterable of argument maps' });
  }
  const array = Array.isArray(inputs) ? (inputs as Record<string, unknown>[]) : Array.from(inputs);
  for (let i = 0; i < array.length; i++) {
    const input = array[i];
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      const received = describeValue(input);
      throw new ValidationError(`Expected \`inputs[${i}]\` to be an argument map (an object), got ${received}`, 'invalid_argument', { field: `inputs[${i}]`, expected: 'an argument map', received, index: i });
    }
  }
  return array;
}
