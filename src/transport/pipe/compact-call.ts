/**
 * A compact call, `[0, id, tool, args, corr]` (frames.ts, `COMPACT`), written by hand around the
 * msgpack of its args. msgpackr spent ~270 ns per call on the rest (measured: 730 -> 470 ns per
 * frame with the args still through msgpackr): the array and the id, the tool name (cached here),
 * and the 36-character correlation id, which msgpackr copies character by character and which is
 * written here from this process's prefix and the call's number, without making the string.
 *
 * A `CompactCall` has no buffer of its own: the batch of its tick writes it straight into the one
 * buffer that carries the tick's frames (framing.ts), reading its args where the encoder left them.
 * Encode and batch of a call took ~580 ns with a buffer per call, ~290 ns without (microbenchmark,
 * 8 calls per batch).
 */
import { CORRELATION_PREFIX, CORRELATION_SEQ_DIGITS, correlationIdOf } from '../../correlation-id.js';
import { COMPACT } from './frames.js';

const FIXARRAY_1 = 0x91;
const FIXARRAY_5 = 0x95;
const NIL = 0xc0;
const UINT32 = 0xce;
const UINT64 = 0xcf;
const STR8 = 0xd9;
const STR16 = 0xda;
const STR32 = 0xdb;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const PREFIX = Buffer.from(CORRELATION_PREFIX, 'latin1');
/** A made correlation id: str8 header, the prefix, the counter's hex digits. */
const MADE_ID_BYTES = 2 + PREFIX.length + CORRELATION_SEQ_DIGITS;
const MAX_MADE_SEQ = 16 ** CORRELATION_SEQ_DIGITS;
/** Args up to this many bytes are copied byte by byte: cheaper than making the view `set` needs. */
const BYTEWISE_COPY_BYTES = 64;

/** Tool names, msgpack-encoded; cleared past this many (only a pool's known tools reach a worker). */
const TOOL_CACHE_LIMIT = 1_024;
const toolBytes = new Map<string, Buffer>();

/** `value` as a msgpack str (UTF-8). */
export function msgpackStr(value: string): Buffer {
  const size = Buffer.byteLength(value, 'utf8');
  const header = size < 32 ? 1 : size < 0x100 ? 2 : size < 0x10000 ? 3 : 5;
  const out = Buffer.allocUnsafe(header + size);
  if (header === 1) out[0] = 0xa0 | size;
  else if (header === 2) (out[0] = STR8), (out[1] = size);
  else if (header === 3) (out[0] = STR16), out.writeUInt16BE(size, 1);
  else (out[0] = STR32), out.writeUInt32BE(size, 1);
  out.write(value, header, 'utf8');
  return out;
}

function encodedTool(tool: string): Buffer {
  let bytes = toolBytes.get(tool);
  if (bytes === undefined) {
    if (toolBytes.size >= TOOL_CACHE_LIMIT) toolBytes.clear();
    toolBytes.set(tool, (bytes = msgpackStr(tool)));
  }
  return bytes;
}

/**
 * Args whose msgpack is larger than this are not copied into the frame: the frame goes out in
 * three parts (`encodeCompactCallParts`), the args' own bytes in the middle. Copying megabytes of
 * args costs more than the separate writes: ~3 ms per 8 MiB on the dev VM, and its garbage.
 */
export const COMPACT_ARGS_COPY_LIMIT = 16 * 1024;

/** `[nil]`: the args of the frame `encodeCompactCallParts` cuts around. */
const NIL_IN_ARRAY = Buffer.from([FIXARRAY_1, NIL]);

function checkArgs(bytes: Uint8Array, start: number): void {
  if (bytes[start] !== FIXARRAY_1) throw new Error('compact call: the args must come as the msgpack of a one-element array');
}

/**
 * One compact call's body, to be written where its frame goes (`writeTo`). Its args are
 * `bytes[start, end)`: the msgpack of `[args]` (a one-element array stands for the frame: the
 * codec's nesting check counts the same depth and names a bad value's path from the args), read
 * when the body is written, so those bytes must not change before. `correlationSeq` > 0 writes
 * that made id; else `correlationId` (nil when undefined).
 */
export class CompactCall {
  /** The body's size in bytes. */
  readonly length: number;
  readonly #id: number;
  readonly #tool: Buffer;
  readonly #args: Uint8Array;
  /** The args' own bytes: past the array header. */
  readonly #argsStart: number;
  readonly #argsEnd: number;
  readonly #correlationSeq: number;
  /** A given correlation id, encoded (undefined for a made one, or none). */
  readonly #correlation: Buffer | undefined;

  constructor(id: number, tool: string, bytes: Uint8Array, start: number, end: number, correlationSeq: number, correlationId: string | undefined) {
    checkArgs(bytes, start);
    // Past 12 hex digits the made id is longer than the fixed form written here: the string then.
    if (correlationSeq >= MAX_MADE_SEQ) {
      correlationId = correlationIdOf(correlationSeq);
      correlationSeq = 0;
    }
    this.#id = id;
    this.#tool = encodedTool(tool);
    this.#args = bytes;
    this.#argsStart = start + 1;
    this.#argsEnd = end;
    this.#correlationSeq = correlationSeq;
    this.#correlation = correlationSeq > 0 || correlationId === undefined ? undefined : msgpackStr(correlationId);
    const corrBytes = correlationSeq > 0 ? MADE_ID_BYTES : this.#correlation === undefined ? 1 : this.#correlation.length;
    this.length = this.argsAt + (end - start - 1) + corrBytes;
  }

  /** Bytes before the args: array header, kind, id, tool. */
  get argsAt(): number {
    return 2 + (this.#id <= 0xffffffff ? 5 : 9) + this.#tool.length;
  }

  /** Writes the body into `out` at `at` (`length` bytes); returns the offset after it. */
  writeTo(out: Buffer, at: number): number {
    const id = this.#id;
    out[at] = FIXARRAY_5;
    out[at + 1] = COMPACT.call;
    at += 2;
    if (id <= 0xffffffff) {
      out[at] = UINT32;
      out.writeUInt32BE(id, at + 1);
      at += 5;
    } else {
      out[at] = UINT64;
      out.writeUInt32BE(Math.floor(id / 0x1_0000_0000), at + 1);
      out.writeUInt32BE(id >>> 0, at + 5);
      at += 9;
    }
    out.set(this.#tool, at);
    at += this.#tool.length;
    const args = this.#args;
    const start = this.#argsStart;
    const end = this.#argsEnd;
    if (end - start <= BYTEWISE_COPY_BYTES) for (let i = start; i < end; i++) out[at++] = args[i]!;
    else {
      out.set(args.subarray(start, end), at);
      at += end - start;
    }
    let seq = this.#correlationSeq;
    if (seq === 0) {
      if (this.#correlation === undefined) out[at++] = NIL;
      else {
        out.set(this.#correlation, at);
        at += this.#correlation.length;
      }
      return at;
    }
    out[at] = STR8;
    out[at + 1] = PREFIX.length + CORRELATION_SEQ_DIGITS;
    out.set(PREFIX, at + 2);
    at += 2 + PREFIX.length;
    // The counter in hex, zero-padded (correlationIdOf's digits), last digit first.
    for (let i = at + CORRELATION_SEQ_DIGITS - 1; i >= at; i -= 2) {
      const byte = seq % 256;
      out[i] = HEX[byte & 15]!;
      out[i - 1] = HEX[byte >> 4]!;
      seq = Math.floor(seq / 256);
    }
    return at + CORRELATION_SEQ_DIGITS;
  }
}

/** The body of the compact call `[0, id, tool, args, corr]` in a buffer of its own (`CompactCall` over all of `argsInArray`). */
export function encodeCompactCall(id: number, tool: string, argsInArray: Buffer, correlationSeq: number, correlationId: string | undefined): Buffer {
  const call = new CompactCall(id, tool, argsInArray, 0, argsInArray.length, correlationSeq, correlationId);
  const out = Buffer.allocUnsafe(call.length);
  call.writeTo(out, 0);
  return out;
}

/**
 * The same frame as `encodeCompactCall`, in three parts whose concatenation is its body: the head
 * (array header, kind, id, tool), the args' own bytes (`argsInArray` past its array header, not
 * copied) and the correlation id. For args over `COMPACT_ARGS_COPY_LIMIT`.
 */
export function encodeCompactCallParts(id: number, tool: string, argsInArray: Buffer, correlationSeq: number, correlationId: string | undefined): Buffer[] {
  checkArgs(argsInArray, 0);
  // The frame with nil for args, cut around that one byte: the args' own bytes go in its place.
  const call = new CompactCall(id, tool, NIL_IN_ARRAY, 0, NIL_IN_ARRAY.length, correlationSeq, correlationId);
  const frame = Buffer.allocUnsafe(call.length);
  call.writeTo(frame, 0);
  const argsAt = call.argsAt;
  return [frame.subarray(0, argsAt), argsInArray.subarray(1), frame.subarray(argsAt + 1)];
}
