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

/**
 * Writes one frame (length header, then body) to `stream`. A small frame is one buffer, so a lone
 * frame leaves by a plain write rather than a two-part writev; a large body is not copied, its
 * header and body written under cork/uncork (one writev).
 */
export function writeFrame(stream: Writable, body: Buffer): void {
  if (body.length <= SMALL_FRAME_BYTES) {
    const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
    frame.writeUInt32BE(body.length, 0);
    body.copy(frame, HEADER_BYTES);
    stream.write(frame);
    return;
  }
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32BE(body.length, 0);
  stream.cork();
  stream.write(header);
  stream.write(body);
  stream.uncork();
}
