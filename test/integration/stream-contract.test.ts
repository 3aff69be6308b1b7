// Streams at their edges: a chunk callback that throws, a tool that does not stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { startPool } from '../helpers/pool.js';

describe('stream contract', () => {
  let sp: Snakepit;
  beforeAll(async () => {
    ({ sp } = await startPool({ adapter: 'stream_adapter.StreamAdapter' }));
  });
  afterAll(async () => {
    await sp.stop();
  });

  it('a throwing executeStream callback rejects with its own error, cancels the generator and keeps the worker', async () => {
    const [before] = sp.pool('default').listWorkers();
    const exits: unknown[] = [];
    sp.pool('default').on('worker:exit', (info) => exits.push(info));
    const mine = new Error('consumer failed');
    const seen: number[] = [];
    const outcome = await sp
      .executeStream<{ n: number }>('endless', {}, (chunk) => {
        seen.push(chunk.n);
        if (chunk.n === 2) throw mine;
      })
      .then(
        () => 'resolved',
        (error: unknown) => error,
      );
    expect(outcome).toBe(mine);
    expect(seen).toEqual([1, 2]); // no chunk reaches the callback after its throw
    // The same worker answers next, and its generator was closed by the cancel (its `finally` ran).
    const last = await sp.execute<{ yielded: number; closed: boolean }>('last_endless');
    expect(last.closed).toBe(true);
    expect(sp.pool('default').listWorkers().map((w) => w.id)).toEqual([before!.id]);
    expect(exits).toEqual([]);
  });

  it('a tool that does not stream, called as a stream, yields its result as the one final chunk', async () => {
    const chunks: unknown[] = [];
    for await (const chunk of sp.stream('add', { a: 2, b: 3 })) chunks.push(chunk);
    expect(chunks).toEqual([5]);
    const seen: { chunk: unknown; final: boolean }[] = [];
    await sp.executeStream('add', { a: 20, b: 22 }, (chunk, { final }) => seen.push({ chunk, final }));
    expect(seen).toEqual([{ chunk: 42, final: true }]);
  });
});
