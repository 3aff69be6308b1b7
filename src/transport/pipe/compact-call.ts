/**
 * A compact call, `[0, id, tool, args, corr]` (frames.ts, `COMPACT`), written by hand around the
 * msgpack of its args. msgpackr spent ~270 ns per call on the rest (measured: 730 -> 470 ns per
 * frame with the args still through msgpackr): the array and the id, the tool name (cached here),
 * and the 36-character correlation id, which msgpackr copies character by character and which is
 * written here from this process's prefix and the call's number, without making the string.
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

function checkArgs(argsInArray: Buffer): void {
  if (argsInArray[0] !== FIXARRAY_1) throw new Error('compact call: the args must come as the msgpack of a one-element array');
}

/**
 * The body of the compact call `[0, id, tool, args, corr]`. `argsInArray`: the msgpack of `[args]`
 * (a one-element array stands for the frame: the codec's nesting check counts the same depth and
 * names a bad value's path from the args). `correlationSeq` > 0 writes that made id; else
 * `correlationId` (nil when undefined).
 */
export function encodeCompactCall(id: number, tool: string, argsInArray: Buffer, correlationSeq: number, correlationId: string | undefined): Buffer {
  checkArgs(argsInArray);
  // Past 12 hex digits the made id is longer than the fixed form written here: the string then.
  if (correlationSeq >= MAX_MADE_SEQ) return encodeCompactCall(id, tool, argsInArray, 0, correlationIdOf(correlationSeq));
  const toolBuf = encodedTool(tool);
  const corrBuf = correlationSeq > 0 || correlationId === undefined ? undefined : msgpackStr(correlationId);
  const idBytes = id <= 0xffffffff ? 5 : 9;
  const argsBytes = argsInArray.length - 1;
  const corrBytes = correlationSeq > 0 ? MADE_ID_BYTES : corrBuf === undefined ? 1 : corrBuf.length;
  const out = Buffer.allocUnsafe(2 + idBytes + toolBuf.length + argsBytes + corrBytes);
  out[0] = FIXARRAY_5;
  out[1] = COMPACT.call;
  let at = 2;
  if (idBytes === 5) {
    out[at] = UINT32;
    out.writeUInt32BE(id, at + 1);
  } else {
    out[at] = UINT64;
    out.writeUInt32BE(Math.floor(id / 0x1_0000_0000), at + 1);
    out.writeUInt32BE(id >>> 0, at + 5);
  }
  at += idBytes;
  // `[args]` goes in one byte early and the tool name after it, over that byte (its 0x91): a copy
  // from offset 1 costs ~80 ns here, `set` of whole buffers ~20 ns each.
  out.set(argsInArray, at + toolBuf.length - 1);
  out.set(toolBuf, at);
  at += toolBuf.length + argsBytes;
  if (correlationSeq > 0) {
    out[at] = STR8;
    out[at + 1] = PREFIX.length + CORRELATION_SEQ_DIGITS;
    out.set(PREFIX, at + 2);
    at += 2 + PREFIX.length;
    // The counter in hex, zero-padded (correlationIdOf's digits), last digit first.
    let seq = correlationSeq;
    for (let i = at + CORRELATION_SEQ_DIGITS - 1; i >= at; i--) {
      out[i] = HEX[seq % 16]!;
      seq = Math.floor(seq / 16);
    }
  } else if (corrBuf === undefined) out[at] = NIL;
  else out.set(corrBuf, at);
  return out;
}

/**
 * The same frame as `encodeCompactCall`, in three parts whose concatenation is its body: the head
 * (array header, kind, id, tool), the args' own bytes (`argsInArray` past its array header, not
 * copied) and the correlation id. For args over `COMPACT_ARGS_COPY_LIMIT`.
 */
export function encodeCompactCallParts(id: number, tool: string, argsInArray: Buffer, correlationSeq: number, correlationId: string | undefined): Buffer[] {
  checkArgs(argsInArray);
  // The frame with nil for args, cut around that one byte: the args' own bytes go in its place.
  const frame = encodeCompactCall(id, tool, NIL_IN_ARRAY, correlationSeq, correlationId);
  const argsAt = 2 + (id <= 0xffffffff ? 5 : 9) + encodedTool(tool).length;
  return [frame.subarray(0, argsAt), argsInArray.subarray(1), frame.subarray(argsAt + 1)];
}
