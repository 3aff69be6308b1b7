/** msgpack encoding of values on the wire: the JS side of the value mapping in docs/protocol.md. */
import { addExtension, Packr, REUSE_BUFFER_MODE } from 'msgpackr';
import { PayloadTooLargeError, ValidationError } from '../errors.js';
import { emit, enabled } from '../telemetry/bus.js';
import { Tensor, type TensorDType, type TensorOrder } from '../tensor.js';
import { ARROW_EXT_TYPE, ARROW_SHM_DTYPE, arrowFromIPC, ArrowIPC, arrowToIPC, isArrowTable } from './arrow.js';
import { FUNCTION_FOUND, MAX_NESTING_DEPTH, nestsDeeperThan, unencodableError } from './encodable.js';
import { exportBytes, importBytes, readBytes, removeShm, SHM_EXT_TYPE, type ZeroCopySettings } from './shm.js';

/** ext type of a tensor: `[dtype, shape, bytes]`, or `[dtype, shape, bytes, 'F']` in Fortran order. */
export const TENSOR_EXT_TYPE = 2;

/**
 * A binary, tensor or Arrow table in shared memory (ext 3): made per call by `zeroCopy` above the threshold and
 * removed when the call ends, or made by the user with `sp.zeroCopy(value)` to send the same data to
 * many calls without writing it again, and removed by `ref.close()` (or the instance's `stop()`).
 * Where shared memory cannot be used it falls back to a copy, as the original's `allow_fallback`:
 * without `zeroCopy.enabled` (or `/dev/shm`) `sp.zeroCopy` keeps a copy in memory (`copy: true`),
 * and a ref sent to a worker that cannot map the host's memory (an attached one) goes inline.
 */
export class ZeroCopyRef {
  #closed = false;
  #copy: Uint8Array | undefined;
  /** Where the data lives: host memory (`/dev/shm` or a copy). The original's `device`. */
  readonly device = 'cpu' as const;
  /** Who made it and removes it: the host (Python's refs arrive as values). The original's `owner`. */
  readonly owner = 'host' as const;

  /** @internal use `sp.zeroCopy(value)` */
  constructor(
    /** File name in /dev/shm; `''` for a copy. */
    readonly name: string,
    /** Bytes in the file (or the copy). */
    readonly size: number,
    /** dtype, shape and order when it holds a tensor's data. */
    readonly tensor: Pick<Tensor, 'dtype' | 'shape' | 'order'> | undefined,
    /** Whether it holds an Arrow table (IPC stream bytes). */
    readonly arrow = false,
    copyOf?: Uint8Array,
  ) {
    this.#copy = copyOf;
  }

  /** Writes `value`'s bytes to a new shm file of run `runId`. */
  static export(runId: string, value: Uint8Array | Tensor): ZeroCopyRef {
    const bytes = value instanceof Tensor ? value.bytes : value;
    return new ZeroCopyRef(exportBytes(runId, bytes), bytes.byteLength, value instanceof Tensor ? value : undefined);
  }

  /** The fallback: a copy of `value`'s bytes in host memory, sent inline wherever it goes. */
  static copy(value: Uint8Array | Tensor): ZeroCopyRef {
    const bytes = (value instanceof Tensor ? value.bytes : value).slice();
    return new ZeroCopyRef('', bytes.byteLength, value instanceof Tensor ? { dtype: value.dtype, shape: value.shape, order: value.order } : undefined, false, bytes);
  }

  /** True for a fallback copy (no shared memory): the original's `copy`. */
  get copy(): boolean {
    return this.name === '';
  }

  /** Whether `close()` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Removes the file, or drops the copy (idempotent). Calls already sent have their data and are unaffected. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#copy = undefined;
    if (!this.copy) removeShm(this.name);
  }

  /** @internal The bytes, for sending inline: the copy, or the shm file read back. */
  bytes(): Uint8Array {
    return this.#copy ?? readBytes(this.name, this.size);
  }
}

// Set while encodePayload encodes for a transport that can pass refs (a spawned worker with zeroCopy).
let refsAllowed = false;

/** msgpackr's `allocateForWrite`: room for `size` bytes at `position` of the frame being written. */
type Allocate = (size: number) => { target: Uint8Array; position: number };

/** An ext `pack` that writes into the frame itself: msgpackr passes `allocateForWrite` second (its typings omit it). */
function packInto<T>(fn: (value: T, allocate: Allocate) => undefined): (value: T) => Uint8Array {
  return fn as unknown as (value: T) => Uint8Array;
}

const F_ORDER = Uint8Array.of(0xa1, 0x46); // msgpack 'F'

/** msgpack bin header of `length` bytes. */
function binHeader(length: number): Uint8Array {
  if (length < 0x100) return Uint8Array.of(0xc4, length);
  if (length < 0x10000) return Uint8Array.of(0xc5, length >> 8, length & 0xff);
  return Uint8Array.of(0xc6, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff);
}

const FIXEXT: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };

/** Writes an ext of `type` whose body is `parts` straight into the frame (one copy of each part). */
function writeExt(allocate: Allocate, type: number, parts: Uint8Array[]): undefined {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const fixed = FIXEXT[length];
  const header =
    fixed !== undefined ? [fixed]
    : length < 0x100 ? [0xc7, length]
    : length < 0x10000 ? [0xc8, length >> 8, length & 0xff]
    : [0xc9, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
  const { target, position } = allocate(header.length + 1 + length);
  target.set(header, position);
  target[position + header.length] = type;
  let at = position + header.length + 1;
  for (const part of parts) {
    target.set(part, at);
    at += part.byteLength;
  }
  return undefined;
}

/** A tensor ext of `meta` over `bytes`; the data is copied once, straight into the frame (an inner pack would copy it twice). */
function packTensor(meta: Pick<Tensor, 'dtype' | 'shape' | 'order'>, bytes: Uint8Array, allocate: Allocate): undefined {
  const head = inner.pack([meta.dtype, meta.shape]); // fixarray(2): becomes the body's array header
  head[0] = meta.order === 'F' ? 0x94 : 0x93;
  return writeExt(allocate, TENSOR_EXT_TYPE, [head, binHeader(bytes.byteLength), bytes, ...(meta.order === 'F' ? [F_ORDER] : [])]);
}

// `pack`/`unpack` (not `write`/`read`, which msgpackr writes outside the ext body) keep the
// payload a self-contained msgpack value, as Python's ExtType expects.
const inner = new Packr({ useRecords: false });
addExtension({
  Class: Tensor,
  type: TENSOR_EXT_TYPE,
  pack: packInto((t: Tensor, allocate) => packTensor(t, t.bytes, allocate)),
  unpack: (payload: Uint8Array) => {
    const [dtype, shape, bytes, order] = inner.unpack(payload) as [TensorDType, number[], Uint8Array, TensorOrder?];
    return Tensor.fromBytes(dtype, shape, bytes, order ?? 'C');
  },
});
// msgpackr matches extension classes with `instanceof`: this one answers for apache-arrow Tables and
// RecordBatches without importing the optional package.
class ArrowTableLike {
  static [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && isArrowTable(v);
  }
}
addExtension({
  Class: ArrowTableLike,
  type: ARROW_EXT_TYPE,
  // The ext body is the IPC stream itself. Throws `arrow_unavailable` if apache-arrow was never loaded.
  pack: packInto((v: object, allocate) => writeExt(allocate, ARROW_EXT_TYPE, [arrowToIPC(v)])),
  unpack: (payload: Uint8Array) => arrowFromIPC(payload),
});
addExtension({
  Class: ArrowIPC,
  type: ARROW_EXT_TYPE,
  pack: packInto((v: ArrowIPC, allocate) => writeExt(allocate, ARROW_EXT_TYPE, [v.bytes])),
  unpack: (payload: Uint8Array) => arrowFromIPC(payload),
});
addExtension({
  Class: ZeroCopyRef,
  type: SHM_EXT_TYPE,
  pack: packInto((r: ZeroCopyRef, allocate) => {
    if (r.closed) throw new ValidationError(`ZeroCopyRef ${r.name || '(copy)'} is closed`, 'invalid_argument', { ref: r.name });
    if (refsAllowed && !r.copy) {
      return writeExt(allocate, SHM_EXT_TYPE, [inner.pack([r.name, r.size, r.arrow ? ARROW_SHM_DTYPE : (r.tensor?.dtype ?? null), r.tensor?.shape ?? null, r.tensor?.order ?? 'C'])]);
    }
    // A copy, or a worker that cannot map the host's memory: the data goes inline, as what it holds.
    const bytes = r.bytes();
    if (r.arrow) return writeExt(allocate, ARROW_EXT_TYPE, [bytes]);
    if (r.tensor) return packTensor(r.tensor, bytes, allocate);
    const header = binHeader(bytes.byteLength);
    const { target, position } = allocate(header.byteLength + bytes.byteLength);
    target.set(header, position);
    target.set(bytes, position + header.byteLength);
    return undefined;
  }),
  // The file is read and unlinked while decoding: whatever becomes of the frame, nothing stays behind.
  unpack: (payload: Uint8Array) => {
    const [name, size, dtype, shape, order] = inner.unpack(payload) as [string, number, TensorDType | typeof ARROW_SHM_DTYPE | null, number[] | null, TensorOrder];
    const started = performance.now();
    const bytes = importBytes(name, size);
    if (enabled('snakepit.zero_copy.imported')) emit('snakepit.zero_copy.imported', { bytes: size, durationMs: performance.now() - started }, { name });
    if (dtype === ARROW_SHM_DTYPE) return arrowFromIPC(bytes);
    return dtype === null ? bytes : Tensor.fromBytes(dtype, shape ?? [], bytes, order);
  },
});

// One shared Packr: `useRecords: false` keeps plain msgpack maps Python understands;
// 'auto' gives numbers up to 2^53 and bigints beyond; bigints past 64 bits use ext 0x42.
const packr = new Packr({
  useRecords: false,
  // 'auto' exists at run time; msgpackr's typings lag behind.
  int64AsType: 'auto' as 'bigint',
  useBigIntExtension: true,
  encodeUndefinedAsNil: true,
  mapsAsObjects: true,
  // msgpackr would write a function as nil: the call would lose it silently.
  writeFunction: () => {
    throw FUNCTION_FOUND;
  },
});

/** Values an extension encodes whole: leaves for the diagnosis of a failed encode. */
const encodedByExtension = (v: object): boolean => v instanceof Tensor || v instanceof ZeroCopyRef || v instanceof ArrowIPC || v instanceof ArrowTableLike;

/**
 * `packr.pack` with values that cannot cross turned into `invalid_args` naming where they sit
 * (see encodable.ts). The normal path adds a try block and, for bodies long enough to nest past
 * Python's limit (over 1024 bytes), one walk of the value's containers.
 */
function pack(value: unknown, argsKey?: PropertyKey, mode = 0): Buffer {
  let body: Buffer;
  let size: number;
  try {
    body = packr.pack(value, mode);
    size = mode === REUSE_BUFFER_MODE ? (body as PackedInPlace).end - (body as PackedInPlace).start : body.byteLength;
  } catch (error) {
    // Stack overflow (a cycle, or nesting past the JS stack), msgpackr's "Unknown type: symbol", a function.
    const encodeFailure = error === FUNCTION_FOUND || error instanceof RangeError || (error instanceof Error && error.message.startsWith('Unknown type'));
    throw (encodeFailure && unencodableError(value, error, encodedByExtension, argsKey)) || error;
  }
  if (size > MAX_NESTING_DEPTH && nestsDeeperThan(value, MAX_NESTING_DEPTH, encodedByExtension)) {
    throw unencodableError(value, undefined, encodedByExtension, argsKey) ?? new ValidationError(`Cannot send a value nested deeper than ${MAX_NESTING_DEPTH} levels`, 'invalid_args', { path: '', reason: 'too_deep' });
  }
  return body;
}

/** Bytes the encoder wrote into its own buffer: `[start, end)` of it (msgpackr's `REUSE_BUFFER_MODE`). */
export type PackedInPlace = Buffer & { readonly start: number; readonly end: number };

/**
 * `pack` without a buffer of its own: the bytes stay where the encoder wrote them, and stay as they
 * are (it only ever writes past them, or into a new buffer), so they may be read later, e.g. when
 * the tick's frames are written (pipe/compact-call.ts). Read `start` and `end` before the next encode.
 * This holds because nothing here rewinds msgpackr's shared buffer (`RESET_BUFFER_MODE`,
 * `useBuffer`, setting `position`), and msgpackr is not used by any other dependency (`npm ls msgpackr`).
 */
export function packInPlace(value: unknown, argsKey?: PropertyKey): PackedInPlace {
  return pack(value, argsKey, REUSE_BUFFER_MODE) as PackedInPlace;
}

/**
 * Encodes one frame body.
 * @throws {ValidationError} `invalid_args` (with `details.path`, `details.reason`) for a value that cannot cross.
 */
export function encode(value: unknown): Buffer {
  return pack(value);
}

/** Decodes one frame body (shared-memory references are read and their files removed). */
export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/** The bounds `decodeRange` hands msgpackr: one object, reused (msgpackr reads them at once). */
const range = { start: 0, end: 0 };

/**
 * `decode` of `bytes[start, end)`, read in place: no view per frame, and msgpackr's DataView is made
 * once per `bytes` instead of once per view (together ~100 B and ~0.1 µs per frame). A value that
 * ends before `end` or runs past it throws, as it does in a view of its own.
 */
export function decodeRange(bytes: Uint8Array, start: number, end: number): unknown {
  // msgpackr reads `end: 0` as "to the end of the buffer": an empty body is decoded as one (it throws).
  if (end === 0) return packr.unpack(bytes.subarray(start, end));
  range.start = start;
  range.end = end;
  return packr.unpack(bytes, range);
}

/** How a call's payload is encoded: shared memory above a threshold, and a size limit. */
export interface PayloadOptions {
  /** Send large binaries and tensors through `/dev/shm`; undefined = always inline. */
  zeroCopy?: ZeroCopySettings | undefined;
  /** Largest payload (frame plus shared memory) in bytes; undefined = no limit of its own. */
  maxPayloadBytes?: number | undefined;
}

/** An encoded payload and the shared-memory files it refers to (the caller unlinks them when the call ends). */
export interface EncodedPayload {
  body: Buffer;
  shmFiles: string[];
  /** Bytes that went through shared memory. */
  shmBytes: number;
}

/**
 * Encodes a payload, exporting large buffers to shared memory, and checks the total against
 * `maxPayloadBytes` before anything is sent. Throws `PayloadTooLargeError` (its files removed), or
 * `invalid_args` for a value that cannot cross; `argsKey` names the call's args in `value` (the
 * pipe's frame) so that the error's `details.path` starts from them (`message.self`).
 */
export function encodePayload(value: unknown, options: PayloadOptions, argsKey?: PropertyKey): EncodedPayload {
  const zc = options.zeroCopy;
  if (!zc) {
    // Zero-copy off (the default): no exports, so none of the closures below (every call comes here).
    const body = pack(value, argsKey);
    checkPayloadLimit(body.byteLength, options);
    return { body, shmFiles: NO_FILES, shmBytes: 0 };
  }
  const files: string[] = [];
  let shmBytes = 0;
  try {
    const exportIfLarge = (v: unknown): unknown => {
      if (v instanceof ArrowTableLike) return exportArrow(v as object);
      const bytes = v instanceof Tensor ? v.bytes : v instanceof Uint8Array ? v : undefined;
      if (bytes === undefined || bytes.byteLength < zc.thresholdBytes) return undefined;
      const name = tryExport(zc, bytes);
      return name === undefined ? undefined : new ZeroCopyRef(name, bytes.byteLength, v instanceof Tensor ? v : undefined);
    };
    // An Arrow table is written as IPC once, here, then goes through shm or inline (as ArrowIPC).
    const exportArrow = (v: object): unknown => {
      const ipc = arrowToIPC(v);
      const name = ipc.byteLength >= zc.thresholdBytes ? tryExport(zc, ipc) : undefined;
      return name === undefined ? new ArrowIPC(ipc) : new ZeroCopyRef(name, ipc.byteLength, undefined, true);
    };
    const tryExport = (settings: ZeroCopySettings, bytes: Uint8Array): string | undefined => {
      const started = performance.now();
      let name: string;
      try {
        name = exportBytes(settings.runId, bytes);
      } catch (error) {
        // /dev/shm full or not writable: the value still gets there, inline.
        emit('snakepit.zero_copy.fallback', { bytes: bytes.byteLength }, { reason: (error as NodeJS.ErrnoException).code ?? String(error) });
        return undefined;
      }
      if (enabled('snakepit.zero_copy.exported')) emit('snakepit.zero_copy.exported', { bytes: bytes.byteLength, durationMs: performance.now() - started }, { name });
      files.push(name);
      shmBytes += bytes.byteLength;
      return name;
    };
    let body: Buffer;
    refsAllowed = true;
    try {
      body = pack(replaceLarge(value, exportIfLarge, 0), argsKey);
    } finally {
      refsAllowed = false;
    }
    checkPayloadLimit(body.byteLength + shmBytes, options);
    return { body, shmFiles: files, shmBytes };
  } catch (error) {
    for (const name of files) removeShm(name);
    throw error;
  }
}

/** Throws `PayloadTooLargeError` when `sizeBytes` (frame plus shared memory) is over `maxPayloadBytes`. */
export function checkPayloadLimit(sizeBytes: number, options: PayloadOptions): void {
  const limit = options.maxPayloadBytes;
  if (limit !== undefined && sizeBytes > limit) throw new PayloadTooLargeError(sizeBytes, limit, 'host');
}

/** The `shmFiles` of a payload with none (shared: never added to). */
export const NO_FILES: string[] = Object.freeze([]) as unknown as string[];

/** `value` with large buffers swapped for refs; unchanged containers are returned as they are. */
function replaceLarge(value: unknown, swap: (v: unknown) => unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const swapped = swap(value);
  if (swapped !== undefined) return swapped;
  if (depth > 8 || value instanceof Uint8Array || value instanceof Tensor || value instanceof ZeroCopyRef || value instanceof ArrowIPC) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = replaceLarge(value[i], swap, depth + 1);
      if (v !== value[i]) (out ??= [...value])[i] = v;
    }
    return out ?? value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const nv = replaceLarge(v, swap, depth + 1);
    if (nv !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = nv;
  }
  return out ?? value;
}
