/** Pipe framing, both directions: each frame is a 4-byte big-endian length, then the msgpack body. */
import type { Writable } from 'node:stream';

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
      onFrame(data.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length));
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

/** A frame body, whole or in parts (their concatenation; a large middle part is not copied). */
export type FrameBody = Buffer | readonly Buffer[];

const bodyLength = (body: FrameBody): number => (Buffer.isBuffer(body) ? body.length : body.reduce((sum, part) => sum + part.length, 0));

/**
 * Frames queued during one tick, written together by `flush`: small frames are copied behind
 * their headers into one buffer (one stream write, one allocation, for a whole burst of calls);
 * a large body is written as it is, after its header, not copied (a body in parts: its small
 * parts copied, its large ones written as they are). Order is kept.
 */
export class FrameBatch {
  #bodies: FrameBody[] = [];
  /** The bodies' lengths, in the same order. */
  #lengths: number[] = [];
  /** Bytes of the small frames (headers included) waiting to be copied into the next buffer. */
  #smallBytes = 0;
  #hasLarge = false;

  get size(): number {
    return this.#bodies.length;
  }

  add(body: FrameBody): void {
    const length = bodyLength(body);
    this.#bodies.push(body);
    this.#lengths.push(length);
    if (length <= SMALL_FRAME_BYTES) this.#smallBytes += HEADER_BYTES + length;
    else this.#hasLarge = true;
  }

  /** Writes every queued frame to `stream` (corked around several writes: they leave in one writev). */
  flush(stream: Writable): void {
    const bodies = this.#bodies;
    const lengths = this.#lengths;
    const smallBytes = this.#smallBytes;
    const writesLarge = this.#hasLarge;
    this.#bodies = [];
    this.#lengths = [];
    this.#smallBytes = 0;
    this.#hasLarge = false;
    if (bodies.length === 0) return;
    let out = smallBytes > 0 ? Buffer.allocUnsafe(smallBytes) : undefined;
    let offset = 0;
    if (writesLarge) stream.cork();
    for (let i = 0; i < bodies.length; i++) {
      const body = bodies[i]!;
      const length = lengths[i]!;
      if (length <= SMALL_FRAME_BYTES) {
        out!.writeUInt32BE(length, offset);
        offset += HEADER_BYTES;
        // not `copy`: its checks cost more than a small frame's bytes
        if (Buffer.isBuffer(body)) (out!.set(body, offset), (offset += length));
        else for (const part of body) (out!.set(part, offset), (offset += part.length));
        continue;
      }
      // A large body: the small frames before it go first, then its header and the body itself.
      if (offset > 0) {
        stream.write(out!.subarray(0, offset));
        out = out!.subarray(offset);
        offset = 0;
      }
      const header = Buffer.allocUnsafe(HEADER_BYTES);
      header.writeUInt32BE(length, 0);
      stream.write(header);
      if (Buffer.isBuffer(body)) stream.write(body);
      else for (const part of body) if (part.length > 0) stream.write(part);
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
export function writeFrame(stream: Writable, body: FrameBody): void {
  const batch = new FrameBatch();
  batch.add(body);
  batch.flush(stream);
}
