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
    expect(sizes(new ChunkSizer('auto', { x: 1 }), 9, 0.0001)).toEqual([1, 4, 16, 64, 256, 1024, 4096, 16384, 16384]);
  });

  it('levels off where a chunk takes about the target time', () => {
    const steady = sizes(new ChunkSizer('auto', { x: 1 }), 20, 0.5).at(-1)!;
    expect(steady).toBe(AUTO_TARGET_CHUNK_MS / 0.5);
  });

  it('sends slow inputs one per chunk', () => {
    expect(sizes(new ChunkSizer('auto', { x: 1 }), 5, 100)).toEqual([1, 1, 1, 1, 1]);
  });

  it('follows inputs that become slower, halving at most per chunk', () => {
    const sizer = new ChunkSizer('auto', { x: 1 });
    sizes(sizer, 10, 0.0001);
    expect(sizer.next(1e9, 2)).toBe(AUTO_MAX_CHUNK);
    // Inputs now take 1 ms: a spike on a busy machine would look the same, so the size halves per chunk.
    expect(sizes(sizer, 12, 1)).toEqual([16384, 8192, 4096, 2048, 1024, 512, 256, 128, 64, 32, 20, 20]);
  });

  it('shares the tail between the slots and never exceeds what is left', () => {
    const sizer = new ChunkSizer('auto', { x: 1 });
    sizes(sizer, 10, 0.0001);
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
