// Streaming: chunks arrive one by one while Python is still producing, through both APIs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { startPool } from '../helpers/pool.js';

describe('streaming', () => {
  let sp: Snakepit;
  let gateDir: string;
  beforeAll(async () => {
    ({ sp } = await startPool({ adapter: 'stream_adapter.StreamAdapter' }));
    gateDir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-gate-'));
  });
  afterAll(async () => {
    await sp.stop();
    rmSync(gateDir, { recursive: true, force: true });
  });

  it('delivers each chunk before Python produces the next', async () => {
    // Python yields item i, then blocks until the test opens gate i. Receiving item i therefore
    // proves it was delivered while the generator was still running.
    const received: number[] = [];
    for await (const chunk of sp.stream<{ i: number }>('gated', { n: 4, gate_dir: gateDir })) {
      received.push(chunk.i);
      expect(received).toEqual([...Array(received.length).keys()]);
      writeFileSync(path.join(gateDir, String(chunk.i)), '');
    }
    expect(received).toEqual([0, 1, 2, 3]);
  });

  it('calls the executeStream callback per chunk with the final flag', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-gate-'));
    const seen: { i: number; final: boolean }[] = [];
    await sp.executeStream<{ i: number }>('gated', { n: 3, gate_dir: dir }, (chunk, info) => {
      seen.push({ i: chunk.i, final: info.final });
      writeFileSync(path.join(dir, String(chunk.i)), '');
    });
    expect(seen).toEqual([
      { i: 0, final: false },
      { i: 1, final: false },
      { i: 2, final: true },
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams from an async generator', async () => {
    const items: unknown[] = [];
    for await (const c of sp.stream('async_items', { n: 3 })) items.push(c);
    expect(items).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
  });
});

describe('showcase stream_progress', () => {
  it('yields steps 1..n', async () => {
    const { sp } = await startPool();
    try {
      const steps: number[] = [];
      for await (const c of sp.stream<{ step: number }>('stream_progress', { steps: 3, delay_ms: 0 })) steps.push(c.step);
      expect(steps).toEqual([1, 2, 3]);
    } finally {
      await sp.stop();
    }
  });
});
