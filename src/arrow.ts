/**
 * Apache Arrow tables on the wire (docs/protocol.md ext 4): `pyarrow.Table`/`RecordBatch` <->
 * `apache-arrow` `Table`, as Arrow IPC stream bytes. `apache-arrow` is an optional dependency,
 * loaded on first use (never at import time). The codec is synchronous, so it is loaded with
 * `createRequire` (apache-arrow ships CommonJS and ESM builds).
 */
import { createRequire } from 'node:module';
import { ValidationError } from './errors.js';

/** The subset of `apache-arrow` Snakepit uses. */
export interface ArrowModule {
  Table: abstract new (...args: never[]) => unknown;
  RecordBatch: abstract new (...args: never[]) => unknown;
  tableToIPC(table: unknown, type: 'stream'): Uint8Array;
  tableFromIPC(bytes: Uint8Array): unknown;
}

/** `apache-arrow` is not installed: `code: 'arrow_unavailable'`. */
export class ArrowUnavailableError extends ValidationError {
  constructor(cause?: unknown) {
    super("Arrow values need the optional package 'apache-arrow': npm install apache-arrow", 'arrow_unavailable', {
      package: 'apache-arrow',
      cause: cause instanceof Error ? cause.message : cause === undefined ? undefined : String(cause),
    });
  }
}

/**
 * An Arrow value received while `apache-arrow` is not installed: its IPC stream bytes, kept so the
 * frame (and the worker) survive. `table()` throws `ArrowUnavailableError` until it is installed.
 */
export class ArrowIPC {
  constructor(readonly bytes: Uint8Array) {}
  /** The value as an `apache-arrow` Table (throws `arrow_unavailable` when the package is absent). */
  table(): unknown {
    return requireArrow().tableFromIPC(this.bytes);
  }
}

const defaultLoader = (): ArrowModule => createRequire(import.meta.url)('apache-arrow') as ArrowModule;
let loader: () => ArrowModule = defaultLoader;
let cached: ArrowModule | null | undefined; // null: tried and absent

/** @internal tests: replace how apache-arrow is loaded (undefined restores the default). */
export function setArrowLoader(fn: (() => ArrowModule) | undefined): void {
  loader = fn ?? defaultLoader;
  cached = undefined;
}

/** apache-arrow, or null when it is not installed. */
export function arrowModule(): ArrowModule | null {
  if (cached === undefined) {
    try {
      cached = loader();
    } catch {
      cached = null;
    }
  }
  return cached;
}

/** apache-arrow, or `ArrowUnavailableError`. */
export function requireArrow(): ArrowModule {
  const mod = arrowModule();
  if (!mod) {
    let cause: unknown;
    try {
      loader();
    } catch (error) {
      cause = error;
    }
    throw new ArrowUnavailableError(cause);
  }
  return mod;
}

/** apache-arrow, loaded asynchronously (`await import`); throws `ArrowUnavailableError`. */
export async function loadArrow(): Promise<ArrowModule> {
  try {
    return (await import('apache-arrow' as string)) as ArrowModule;
  } catch (error) {
    throw new ArrowUnavailableError(error);
  }
}

/** Whether `v` is an apache-arrow Table or RecordBatch (checked without loading the package). */
export function isArrowValue(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const mod = cached;
  if (mod) return v instanceof mod.Table || v instanceof mod.RecordBatch;
  // Not loaded yet: anything that looks like a Table/RecordBatch (schema + numRows + getChild).
  const o = v as { schema?: unknown; numRows?: unknown; getChild?: unknown };
  return typeof o.getChild === 'function' && typeof o.numRows === 'number' && typeof o.schema === 'object' && o.schema !== null;
}

/** Arrow IPC stream bytes of a Table (a RecordBatch goes as a one-batch table). */
export function arrowToIPC(v: unknown): Uint8Array {
  const arrow = requireArrow();
  const table = v instanceof arrow.RecordBatch ? new (arrow.Table as unknown as new (b: unknown) => unknown)(v) : v;
  return arrow.tableToIPC(table, 'stream');
}

/** A Table from IPC stream bytes, or `ArrowIPC` holding them when apache-arrow is absent. */
export function arrowFromIPC(bytes: Uint8Array): unknown {
  const arrow = arrowModule();
  return arrow ? arrow.tableFromIPC(bytes) : new ArrowIPC(bytes);
}
