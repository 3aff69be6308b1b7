/**
 * `chunkSize: 'auto'` of `sp.map`: how many inputs the next chunk carries, from what the chunks so
 * far took. A pure policy (no clock, no pool): the map reports each finished chunk, asks for the next size.
 */
import { encode } from '../transport/codec.js';

/**
 * The first chunk of each map is one input: a chunk is one call with the call's timeout, so a map of
 * slow inputs must not start with a chunk longer than one `execute` of the same tool would be.
 */
export const AUTO_FIRST_CHUNK = 1;
/** Each chunk may be this many times the last (1, 4, 16, ... 16384): tiny inputs reach full size within a few round trips per slot. */
export const AUTO_GROWTH = 4;
/**
 * Python time a chunk should take. Between two chunks a worker idles for a round trip (about 0.1-0.3
 * ms on the pipe here), so 20 ms chunks keep it busy ~99 % of the time, while a chunk stays far
 * below any call timeout and a crash costs at most the input that was running (results stream back
 * as they finish).
 */
export const AUTO_TARGET_CHUNK_MS = 20;
/**
 * Inputs per chunk at most: the bound that matters for tiny inputs (the time target allows more).
 * Measured with 100k tiny echoes, 2 workers (bench/map-chunks.ts): the pipe levels off from ~4k
 * inputs per chunk, gRPC (a larger cost per message) still gains up to ~16k; a chunk of 16k tiny
 * inputs is a frame of ~150 KiB.
 */
export const AUTO_MAX_CHUNK = 16384;
/** Bytes per chunk at most (estimated from the first input's encoded size): a frame stays small beside the frame limit and in memory. */
export const AUTO_MAX_CHUNK_BYTES = 1 << 20;
/** A chunk may be this many times smaller than the last, at most. */
export const AUTO_SHRINK = 2;
/** Weight of the newest chunk in the per-input time (an exponentially weighted mean). */
const EWMA_WEIGHT = 0.5;

/** The inputs per chunk the byte bound allows, from the first input's encoded size. */
export function maxChunkByBytes(first: Record<string, unknown> | undefined): number {
  if (first === undefined) return AUTO_MAX_CHUNK;
  let bytes: number;
  try {
    bytes = encode(first).length;
  } catch {
    return AUTO_MAX_CHUNK; // the chunk's own encoding will say what is wrong with it
  }
  return Math.max(1, Math.min(AUTO_MAX_CHUNK, Math.floor(AUTO_MAX_CHUNK_BYTES / Math.max(1, bytes))));
}

/** Sizes the chunks of one map: `fixed` (a `chunkSize` number) or the `'auto'` rule above. */
export class ChunkSizer {
  readonly #fixed: number | undefined;
  readonly #maxItems: number;
  #size = AUTO_FIRST_CHUNK;
  #itemMs: number | undefined;

  constructor(chunkSize: number | 'auto', first: Record<string, unknown> | undefined) {
    this.#fixed = chunkSize === 'auto' ? undefined : chunkSize;
    this.#maxItems = chunkSize === 'auto' ? maxChunkByBytes(first) : chunkSize;
  }

  /** Inputs for the next chunk: with `remaining` inputs left to send and `slots` chunks in flight at once. */
  next(remaining: number, slots: number): number {
    if (this.#fixed !== undefined) return Math.min(this.#fixed, remaining);
    // Near the end every slot gets a share instead of one worker taking the rest alone.
    const share = Math.ceil(remaining / Math.max(1, slots));
    return Math.max(1, Math.min(this.#size, share, this.#maxItems, remaining));
  }

  /** A chunk of `inputs` inputs ran to its end in `elapsedMs` (from sending it to its end). */
  record(inputs: number, elapsedMs: number): void {
    if (this.#fixed !== undefined || inputs <= 0) return;
    const itemMs = Math.max(elapsedMs, 0) / inputs;
    this.#itemMs = this.#itemMs === undefined ? itemMs : EWMA_WEIGHT * itemMs + (1 - EWMA_WEIGHT) * this.#itemMs;
    const byTime = this.#itemMs > 0 ? Math.floor(AUTO_TARGET_CHUNK_MS / this.#itemMs) : Infinity;
    // Shrinking is damped (half per chunk at most): one chunk slowed down by a busy machine is noise,
    // and a chunk of the target time has thousands of times the room of a call timeout.
    const lowest = Math.ceil(this.#size / AUTO_SHRINK);
    this.#size = Math.max(1, lowest, Math.min(byTime, this.#size * AUTO_GROWTH, this.#maxItems));
  }

  /** The size the next full chunk would have (before the end-of-map share). */
  get size(): number {
    return this.#fixed ?? this.#size;
  }
}
