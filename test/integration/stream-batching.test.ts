// Fast streams (gRPC batches the chunks a fast generator yields together): order, final flags,
// metadata, the exact flow-control bound and a cancel in the middle of a batch, on both transports.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { startPool } from '../helpers/pool.js';

const HIGH_WATER_MARK = 16;

describe('fast streams', () => {
  let sp: Snakepit;
  let dir: string;
  beforeAll(async () => {
    ({ sp } = await startPool({ adapter: 'stream_adapter.StreamAdapter', streamHighWaterMark: HIGH_WATER_MARK }));
    dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-batch-'));
  });
  afterAll(async () => {
    await sp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keep every chunk in order with its final flag and metadata', async () => {
    const count = 5_000;
    const seen: { i: number; final: boolean; metadata?: Record<string, unknown> }[] = [];
    await sp.executeStream<{ i: number }>('burst', { count, meta_every: 7 }, (chunk, info) => {
      seen.push({ i: chunk.i, final: info.final, ...(info.metadata ? { metadata: info.metadata } : {}) });
    });
    expect(seen).toEqual(Array.from({ length: count }, (_, i) => ({ i, final: i === count - 1, ...(i % 7 === 0 ? { metadata: { k: i } } : {}) })));
  });

  it('keep Python at most streamHighWaterMark small chunks ahead of a slow consumer', async () => {
    // Small chunks: HTTP/2's byte windows alone would let Python run thousands ahead.
    const file = path.join(dir, 'produced');
    const produced = () => {
      try {
        return Number(readFileSync(file, 'utf8'));
      } catch {
        return 0;
      }
    };
    const count = 2_000;
    const holdsBefore = sp.stats().streamHolds;
    let consumed = 0;
    for await (const chunk of sp.stream<{ i: number }>('numbered', { count, pad: 1, progress_file: file })) {
      expect(chunk.i).toBe(consumed);
      consumed++;
      if (consumed % 250 !== 1) continue;
      // Held: Python produced exactly the window plus the credit granted so far (the host grants
      // what the consumer took, half a window at a time).
      await vi.waitFor(() => expect(sp.stats().streamsHeld).toBe(1), { timeout: 10_000, interval: 5 });
      const granted = Math.floor(consumed / (HIGH_WATER_MARK / 2)) * (HIGH_WATER_MARK / 2);
      expect(produced()).toBe(HIGH_WATER_MARK + granted);
    }
    expect(consumed).toBe(count);
    expect(sp.stats().streamHolds - holdsBefore).toBeGreaterThanOrEqual(count / 250);
  });

  it('an abort in the middle of a batch delivers no later chunk, closes the generator and keeps the worker', async () => {
    const [before] = sp.listWorkers();
    const controller = new AbortController();
    const seen: number[] = [];
    const outcome = await sp
      .executeStream<{ n: number }>('endless', { pause_ms: 0 }, (chunk) => {
        seen.push(chunk.n);
        if (chunk.n === 300) controller.abort();
      }, { signal: controller.signal })
      .catch((error: unknown) => error);
    expect(outcome).toMatchObject({ code: 'aborted' });
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(await sp.execute('last_endless')).toMatchObject({ closed: true });
    expect(sp.listWorkers().map((w) => w.id)).toEqual([before!.id]);
  });

  it('leaving a for-await loop in the middle of a batch cancels the generator', async () => {
    let last = 0;
    for await (const chunk of sp.stream<{ n: number }>('endless', { pause_ms: 0 })) {
      expect(chunk.n).toBe(last + 1);
      last = chunk.n;
      if (last === 300) break;
    }
    await sp.pool('default').onIdle();
    const state = await sp.execute<{ yielded: number; closed: boolean }>('last_endless');
    expect(state.closed).toBe(true);
    // Flow control held the generator: it ran at most the window past what the loop took.
    expect(state.yielded).toBeLessThanOrEqual(300 + HIGH_WATER_MARK);
    expect(sp.stats().streamsHeld).toBe(0);
  });
});
