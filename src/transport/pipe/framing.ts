/** Pipe framing, both directions: each frame is a 4-byte big-endian length, then the msgpack body. */
import type { Writable } from 'node:stream';
import { CompactCall } from './compact-call.js';

/** Frames larger than this are a protocol error (matches SNAKEPIT_MAX_FRAME_BYTES in Python). */
export const DEFAULT_MAX_FRAME_BYTES = 256 * 1024 * 1024;

const HEADER_BYTES = 4;

/** Incremental frame splitter: feed chunks, get whole frame bodies. */
export class FrameReader {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #expected = -1;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Feeds one chunk; calls `onFrame` for each complete body. Throws RangeError on an oversize frame. */
  push(chunk: Buffer, onFrame: (body: Buffer) => void): void {
    this.pushRanges(chunk, (data, start, end) => onFrame(data.subarray(start, end)));
  }

  /**
   * `push`, with each body given as `data[start, end)` instead of a view of its own: the pipe's
   * decoder reads frames in place (a view, and the decoder's DataView of it, per frame cost ~100 B).
   */
  pushRanges(chunk: Buffer, onFrame: (data: Buffer, start: number, end: number) => void): void {
    // Fast path: nothing pending, so frames can be cut from the chunk without copying.
    let data = chunk;
    if (this.#pendingBytes > 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#expected >= 0 && this.#pendingBytes < HEADER_BYTES + this.#expected) return;
      data = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#expected = -1;
    }
    let offset = 0;
    while (data.length - offset >= HEADER_BYTES) {
      const length = data.readUInt32BE(offset);
      if (length > this.maxFrameBytes) {
        throw new RangeError(`Frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes} bytes`);
      }
      if (data.length - offset - HEADER_BYTES < length) {
        this.#expected = length;
        break;
      }
      onFrame(data, offset + HEADER_BYTES, offset + HEADER_BYTES + length);
      offset += HEADER_BYTES + length;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.#pending.push(rest);
      this.#pendingBytes = rest.length;
    }
  }

  /** Bytes buffered in an incomplete frame. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }
}

/** Frames up to this size are copied behind their length header into one buffer. */
const SMALL_FRAME_BYTES = 16 * 1024;

/** A large frame body in parts (their concatenation), queued without copying them together. */
class FrameParts {
  constructor(
    readonly parts: readonly Buffer[],
    /** Their total bytes. */
    readonly length: number,
  ) {}
}

/** A frame body as queued: whole, in parts, or a compact call still to be written (compact-call.ts). */
type QueuedBody = Buffer | FrameParts | CompactCall;

/** Written behind its header into the batch's buffer (a compact call always is: its args are small). */
const isCopied = (body: QueuedBody): boolean => body.length <= SMALL_FRAME_BYTES || body instanceof CompactCall;
const isLarge = (body: QueuedBody): boolean => !isCopied(body);

/**
 * Frames queued during one tick, written together by `flush`: small frames are copied behind
 * their headers into one buffer (one stream write, one allocation, for a whole burst of calls);
 * a large body is written as it is, after its header, not copied (a body in parts: each part as
 * it is). Order is kept.
 */
export class FrameBatch {
  #bodies: QueuedBody[] = [];
  /** Bytes of the small frames (headers included) waiting to be copied into the next buffer. */
  #smallBytes = 0;

  get size(): number {
    return this.#bodies.length;
  }

  add(body: Buffer | CompactCall): void {
    this.#bodies.push(body);
    if (isCopied(body)) this.#smallBytes += HEADER_BYTES + body.length;
  }

  /** One frame whose body is the concatenation of `parts` (a small one is joined here). */
  addParts(parts: readonly Buffer[]): void {
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    if (length <= SMALL_FRAME_BYTES) this.add(Buffer.concat(parts, length));
    else this.#bodies.push(new FrameParts(parts, length));
  }

  /** Writes every queued frame to `stream` (corked around several writes: they leave in one writev). */
  flush(stream: Writable): void {
    const bodies = this.#bodies;
    const smallBytes = this.#smallBytes;
    this.#bodies = [];
    this.#smallBytes = 0;
    if (bodies.length === 0) return;
    let out = smallBytes > 0 ? Buffer.allocUnsafe(smallBytes) : undefined;
    let offset = 0;
    const writesLarge = bodies.some(isLarge);
    if (writesLarge) stream.cork();
    for (let i = 0; i < bodies.length; i++) {
      const body = bodies[i]!;
      if (body instanceof CompactCall) {
        out!.writeUInt32BE(body.length, offset);
        offset = body.writeTo(out!, offset + HEADER_BYTES);
        continue;
      }
      if (body.length <= SMALL_FRAME_BYTES) {
        out!.writeUInt32BE(body.length, offset);
        out!.set(body as Buffer, offset + HEADER_BYTES); // not `copy`: its checks cost more than a small frame's bytes
        offset += HEADER_BYTES + body.length;
        continue;
      }
      // A large body: the small frames before it go first, then its header and the body itself.
      if (offset > 0) {
        stream.write(out!.subarray(0, offset));
        out = out!.subarray(offset);
        offset = 0;
      }
      const header = Buffer.allocUnsafe(HEADER_BYTES);
      header.writeUInt32BE(body.length, 0);
      stream.write(header);
      if (!(body instanceof FrameParts)) stream.write(body);
      else for (const part of body.parts) if (part.length > 0) stream.write(part);
    }
    if (offset > 0) stream.write(out!.subarray(0, offset));
    if (writesLarge) stream.uncork();
  }
}

/**
 * Writes one frame (length header, then body) to `stream`, as a batch of one: a small frame is one
 * buffer (a plain write, not a two-part writev); a large body is not copied, its header and body
 * leave in one writev.
 */
export function writeFrame(stream: Writable, body: Buffer): void {
  const batch = new FrameBatch();
  batch.add(body);
  batch.flush(stream);
}
