// Flow control: a slow `sp.stream()` consumer holds Python's generator back instead of piling chunks up on the host.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { startPool, TRANSPORT } from '../helpers/pool.js';

const HIGH_WATER_MARK = 16;
const COUNT = 10_000;
const PAD_BYTES = 2_000;
// Pipe: Python may run exactly `streamHighWaterMark` chunks ahead of the consumer (credit). gRPC: the
// response stream pauses at the mark, then HTTP/2's windows (bytes, not chunks) and grpc-js's own small
// buffer fill before Python's producer waits: a bounded number of chunks more.
const AHEAD_LIMIT = TRANSPORT === 'pipe' ? HIGH_WATER_MARK : HIGH_WATER_MARK + 200;

describe('stream backpressure', () => {
  let sp: Snakepit;
  let dir: string;
  beforeAll(async () => {
    ({ sp } = await startPool({ adapter: 'stream_adapter.StreamAdapter', streamHighWaterMark: HIGH_WATER_MARK }));
    dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-flow-'));
  });
  afterAll(async () => {
    await sp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Python's count of chunks produced so far (the fixture writes it before each `yield`). */
  const producedIn = (file: string) => () => {
    try {
      return Number(readFileSync(file, 'utf8'));
    } catch {
      return 0;
    }
  };

  /**
   * The slow part of a consumer: before taking more, wait until the host holds Python back (the
   * pool's `streamsHeld`) or Python has produced everything (as it does without flow control).
   */
  const heldOrDone = (produced: () => number) =>
    vi.waitFor(() => expect(sp.stats().streamsHeld === 1 || produced() === COUNT).toBe(true), { timeout: 10_000, interval: 5 });

  it(`a slow consumer of ${COUNT} chunks keeps Python at most ~streamHighWaterMark chunks ahead`, async () => {
    const produced = producedIn(path.join(dir, 'produced'));
    const holdsBefore = sp.stats().streamHolds;
    let consumed = 0;
    for await (const chunk of sp.stream<{ i: number }>('numbered', { count: COUNT, pad: PAD_BYTES, progress_file: path.join(dir, 'produced') })) {
      expect(chunk.i).toBe(consumed);
      consumed++;
      if (consumed % 500 !== 1) continue;
      await heldOrDone(produced);
      expect(produced() - consumed).toBeLessThanOrEqual(AHEAD_LIMIT);
    }
    expect(consumed).toBe(COUNT);
    expect(sp.stats().streamHolds - holdsBefore).toBeGreaterThanOrEqual(COUNT / 500);
    expect(sp.stats().streamsHeld).toBe(0);
  });

  it('a consumer that stops reading holds the generator; leaving the loop cancels it, the worker goes on', async () => {
    const produced = producedIn(path.join(dir, 'held'));
    const stream = sp.stream<{ i: number }>('numbered', { count: COUNT, pad: PAD_BYTES, progress_file: path.join(dir, 'held') });
    await stream.next();
    await heldOrDone(produced);
    expect(produced()).toBeLessThanOrEqual(1 + AHEAD_LIMIT);
    await stream.return!();
    await sp.pool('default').onIdle();
    expect(produced()).toBeLessThan(COUNT);
    expect(sp.stats().streamsHeld).toBe(0);
    expect(await sp.execute('add', { a: 1, b: 2 })).toBe(3);
  });

  it('executeStream (a callback cannot fall behind) and execute are not held', async () => {
    const holdsBefore = sp.stats().streamHolds;
    let seen = 0;
    await sp.executeStream('numbered', { count: 1_000, pad: 10, progress_file: path.join(dir, 'callback') }, () => seen++);
    expect(seen).toBe(1_000);
    expect(await sp.execute<unknown[]>('numbered', { count: 100, pad: 1, progress_file: path.join(dir, 'unary') })).toHaveLength(100);
    expect(sp.stats().streamHolds).toBe(holdsBefore);
  });
});
