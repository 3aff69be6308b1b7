/**
 * Arrow tables on the wire (docs/protocol.md, ext 4): an `apache-arrow` Table (or RecordBatch) goes as
 * Arrow IPC stream bytes and arrives in Python as a `pyarrow.Table`, and back.
 *
 * `apache-arrow` is an optional peer dependency and ESM: Node 20 cannot load it synchronously, and a
 * CommonJS copy would make Tables that are not `instanceof` the app's `Table`. So `Snakepit.start()`
 * loads it once with `await import()` (`loadArrow`), and the synchronous codec then uses that same
 * module instance. Without it, an Arrow value that arrives anyway (an attached worker does not know
 * the host lacks it) decodes to an `ArrowIPC` holding the bytes: no frame or call is lost.
 */
import { ArrowUnavailableError, ValidationError } from '../errors.js';

/** ext type of an Arrow table: the ext body is Arrow IPC stream bytes. */
export const ARROW_EXT_TYPE = 4;
/** dtype of a shared-memory reference (ext 3) whose file holds Arrow IPC stream bytes. */
export const ARROW_SHM_DTYPE = 'arrow.stream';

/** The part of `apache-arrow` the codec uses (typed loosely: the package is optional). */
export interface ArrowModule {
  Table: abstract new (...args: never[]) => object;
  RecordBatch: abstract new (...args: never[]) => object;
  tableToIPC(table: object, type: 'stream'): Uint8Array;
  tableFromIPC(bytes: Uint8Array): object;
}

/** An Arrow table received while `apache-arrow` was not loaded: its Arrow IPC stream bytes, sent back as they are. */
export class ArrowIPC {
  constructor(
    /** The table as an Arrow IPC stream (any Arrow library reads it). */
    readonly bytes: Uint8Array,
  ) {}

  /** The `apache-arrow` Table; rejects with `ArrowUnavailableError` (`arrow_unavailable`) when the package is not installed. */
  async table(): Promise<object> {
    const arrow = await loadArrow();
    if (!arrow) throw hostArrowUnavailable();
    return arrow.tableFromIPC(this.bytes);
  }
}

// A string, not a literal: TypeScript then leaves the optional package's types out of our .d.ts.
const PACKAGE: string = 'apache-arrow';
const importArrow = (): Promise<ArrowModule> => import(PACKAGE) as Promise<ArrowModule>;
let loader: () => Promise<ArrowModule> = importArrow;
let loading: Promise<ArrowModule | null> | undefined;
let loaded: ArrowModule | null | undefined; // undefined: not tried yet; null: not installed

/**
 * Loads `apache-arrow` once (later calls share the first); resolves to null when it is not
 * installed. `Snakepit.start()` awaits it, so calls always see the outcome.
 */
export function loadArrow(): Promise<ArrowModule | null> {
  loading ??= loader().then(
    (mod) => (loaded = mod),
    () => (loaded = null),
  );
  return loading;
}

/** The loaded `apache-arrow`; null when it is not installed, undefined before `loadArrow()` settled. */
export function arrowModule(): ArrowModule | null | undefined {
  return loaded;
}

/** @internal tests: how `apache-arrow` is loaded (undefined: the real import); forgets the last outcome. */
export function setArrowLoader(fn: (() => Promise<ArrowModule>) | undefined): void {
  loader = fn ?? importArrow;
  loading = undefined;
  loaded = undefined;
}

/** The host-side `arrow_unavailable` error. */
export function hostArrowUnavailable(): ArrowUnavailableError {
  return new ArrowUnavailableError("Arrow tables need the optional package 'apache-arrow' on the host: npm install apache-arrow", { package: 'apache-arrow' });
}

/**
 * Whether `v` is an apache-arrow Table or RecordBatch: `instanceof` the loaded module, else by shape
 * (a Table made before the module was loaded, or by another copy of it).
 */
export function isArrowTable(v: object): boolean {
  if (loaded && (v instanceof loaded.Table || v instanceof loaded.RecordBatch)) return true;
  const o = v as { schema?: { fields?: unknown }; numRows?: unknown; batches?: unknown; data?: unknown; getChild?: unknown };
  return typeof o.getChild === 'function' && typeof o.numRows === 'number' && Array.isArray(o.schema?.fields) && (Array.isArray(o.batches) || o.data !== undefined);
}

/** Arrow IPC stream bytes of a Table (a RecordBatch goes as a table of one batch). */
export function arrowToIPC(v: object): Uint8Array {
  if (v instanceof ArrowIPC) return v.bytes;
  const arrow = loaded;
  if (!arrow) throw hostArrowUnavailable();
  const table = v instanceof arrow.RecordBatch ? new (arrow.Table as unknown as new (batch: object) => object)(v) : v;
  try {
    return arrow.tableToIPC(table, 'stream');
  } catch (error) {
    // Typically a Table of another copy of apache-arrow, whose classes this one does not know.
    throw new ValidationError(`Cannot write this Arrow table as IPC (${(error as Error).message}); is it from another copy of apache-arrow?`, 'invalid_argument', {
      package: 'apache-arrow',
    });
  }
}

/** An apache-arrow Table from IPC stream bytes, or an `ArrowIPC` holding them when apache-arrow is not loaded. */
export function arrowFromIPC(bytes: Uint8Array): object {
  return loaded ? loaded.tableFromIPC(bytes) : new ArrowIPC(bytes);
}
