// The 'auto' chunk size of sp.map: starts at one input, grows ×4 towards ~20 ms chunks, bounded by
// count and bytes, shares the tail between the slots; a fixed size stays fixed.
import { describe, expect, it } from 'vitest';
import { AUTO_MAX_CHUNK, AUTO_MAX_CHUNK_BYTES, AUTO_TARGET_CHUNK_MS, ChunkSizer, maxChunkByBytes } from '../../../src/pool/chunk-sizer.js';

/** The sizes of successive chunks when each input takes `itemMs` (plus `overheadMs` per chunk). */
function sizes(sizer: ChunkSizer, count: number, itemMs: number, overheadMs = 0, remaining = 1e9, slots = 2): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const size = sizer.next(remaining, slots);
    out.push(size);
    sizer.record(size, overheadMs + size * itemMs);
  }
  return out;
}

describe('ChunkSizer', () => {
  it('starts with one input and grows ×4 while chunks are short', () => {
    expect(sizes(new ChunkSizer('auto', { x: 1 }), 8, 0.001)).toEqual([1, 4, 16, 64, 256, 1024, 4096, 4096]);
  });

  it('levels off where a chunk takes about the target time', () => {
    const steady = sizes(new ChunkSizer('auto', { x: 1 }), 20, 0.5).at(-1)!;
    expect(steady).toBe(AUTO_TARGET_CHUNK_MS / 0.5);
  });

  it('sends slow inputs one per chunk', () => {
    expect(sizes(new ChunkSizer('auto', { x: 1 }), 5, 100)).toEqual([1, 1, 1, 1, 1]);
  });

  it('follows inputs that become slower', () => {
    const sizer = new ChunkSizer('auto', { x: 1 });
    sizes(sizer, 10, 0.001);
    expect(sizer.next(1e9, 2)).toBe(AUTO_MAX_CHUNK);
    // Inputs now take 1 ms: the mean follows within two chunks (weight 1/2 for the newest).
    sizer.record(AUTO_MAX_CHUNK, AUTO_MAX_CHUNK * 1);
    sizer.record(26, 26);
    expect(sizer.next(1e9, 2)).toBe(Math.floor(AUTO_TARGET_CHUNK_MS / 0.75));
  });

  it('shares the tail between the slots and never exceeds what is left', () => {
    const sizer = new ChunkSizer('auto', { x: 1 });
    sizes(sizer, 10, 0.001);
    expect(sizer.next(1_000, 4)).toBe(250);
    expect(sizer.next(3, 4)).toBe(1);
    expect(new ChunkSizer(100, undefined).next(30, 4)).toBe(30);
  });

  it('keeps a fixed chunkSize whatever the timings', () => {
    expect(sizes(new ChunkSizer(50, { x: 1 }), 4, 100)).toEqual([50, 50, 50, 50]);
  });

  it('bounds the inputs per chunk by the first input\'s encoded size', () => {
    const big = { text: 'x'.repeat(10_000) };
    expect(maxChunkByBytes(big)).toBe(Math.floor(AUTO_MAX_CHUNK_BYTES / (10_000 + 8)));
    expect(maxChunkByBytes({ blob: new Uint8Array(AUTO_MAX_CHUNK_BYTES * 2) })).toBe(1);
    expect(maxChunkByBytes({ x: 1 })).toBe(AUTO_MAX_CHUNK);
    expect(maxChunkByBytes(undefined)).toBe(AUTO_MAX_CHUNK);
  });
});
