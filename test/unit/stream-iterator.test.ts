import { describe, expect, it, vi } from 'vitest';
import { ChunkChannel } from '../../src/stream-iterator.js';

const item = <T>(value: T): IteratorResult<T> => ({ value, done: false });
const DONE = { value: undefined, done: true };

describe('ChunkChannel', () => {
  it('yields buffered chunks in order, then awaited ones', async () => {
    const channel = new ChunkChannel<number>(vi.fn());
    channel.push(1);
    channel.push(2);
    expect(await channel.next()).toStrictEqual(item(1));
    expect(await channel.next()).toStrictEqual(item(2));
    const pending = channel.next();
    channel.push(3);
    channel.push(4); // buffered: no one waits
    expect(await pending).toStrictEqual(item(3));
    expect(await channel.next()).toStrictEqual(item(4));
  });

  it('end() finishes a pending next()', async () => {
    const channel = new ChunkChannel<number>(vi.fn());
    const pending = channel.next();
    channel.end();
    expect(await pending).toStrictEqual(DONE);
    expect(await channel.next()).toStrictEqual(DONE);
  });

  it('end() still delivers the chunks buffered before it', async () => {
    const channel = new ChunkChannel<string>(vi.fn());
    channel.push('a');
    channel.push('b');
    channel.end();
    expect(await channel.next()).toStrictEqual(item('a'));
    expect(await channel.next()).toStrictEqual(item('b'));
    expect(await channel.next()).toStrictEqual(DONE);
  });

  it('end(error) rejects the pending next() with that error', async () => {
    const channel = new ChunkChannel<number>(vi.fn());
    const error = new Error('boom');
    const pending = channel.next();
    channel.end(error);
    await expect(pending).rejects.toBe(error);
  });

  it('end(error) delivered to a pending next() is not delivered again', async () => {
    const channel = new ChunkChannel<number>(vi.fn());
    const error = new Error('boom');
    const pending = channel.next();
    channel.end(error);
    await expect(pending).rejects.toBe(error);
    expect(await channel.next()).toStrictEqual(DONE);
  });

  it('end(error) rejects after the buffered chunks, once', async () => {
    const channel = new ChunkChannel<number>(vi.fn());
    const error = { code: 'worker_crashed' };
    channel.push(1);
    channel.end(error);
    expect(await channel.next()).toStrictEqual(item(1));
    await expect(channel.next()).rejects.toBe(error);
    expect(await channel.next()).toStrictEqual(DONE);
  });

  it.each([
    ['push', (c: ChunkChannel<number>) => c.push(9)],
    ['end(error)', (c: ChunkChannel<number>) => c.end(new Error('late'))],
    ['end()', (c: ChunkChannel<number>) => c.end()],
  ])('ignores %s after end()', async (_label, act) => {
    const channel = new ChunkChannel<number>(vi.fn());
    channel.end();
    act(channel);
    expect(await channel.next()).toStrictEqual(DONE);
  });

  it('return() calls onAbandon once and drops buffered chunks', async () => {
    const onAbandon = vi.fn();
    const channel = new ChunkChannel<number>(onAbandon);
    channel.push(1);
    channel.push(2);
    expect(await channel.return()).toStrictEqual(DONE);
    expect(onAbandon).toHaveBeenCalledTimes(1);
    expect(await channel.next()).toStrictEqual(DONE);
    expect(await channel.return()).toStrictEqual(DONE);
    expect(onAbandon).toHaveBeenCalledTimes(1);
  });

  it('return() settles a next() that is already waiting', async () => {
    const channel = new ChunkChannel<number>(vi.fn());
    let settled = false;
    const pending = channel.next().finally(() => {
      settled = true;
    });
    await channel.return();
    await Promise.race([pending, new Promise((resolve) => setImmediate(resolve))]);
    expect(settled).toBe(true);
  });

  it('ignores chunks and errors pushed after return()', async () => {
    const channel = new ChunkChannel<number>(vi.fn());
    await channel.return();
    channel.push(1);
    channel.end(new Error('late'));
    expect(await channel.next()).toStrictEqual(DONE);
  });

  it.each([
    ['end()', (c: ChunkChannel<number>) => c.end()],
    ['end(error)', (c: ChunkChannel<number>) => c.end(new Error('x'))],
  ])('return() after %s does not call onAbandon', async (_label, finish) => {
    const onAbandon = vi.fn();
    const channel = new ChunkChannel<number>(onAbandon);
    finish(channel);
    await channel.return();
    expect(onAbandon).not.toHaveBeenCalled();
  });

  it('is its own async iterator', () => {
    const channel = new ChunkChannel<number>(vi.fn());
    expect(channel[Symbol.asyncIterator]()).toBe(channel);
  });

  it('for await collects every chunk until end() without abandoning', async () => {
    const onAbandon = vi.fn();
    const channel = new ChunkChannel<number>(onAbandon);
    channel.push(1);
    queueMicrotask(() => {
      channel.push(2);
      channel.end();
    });
    const seen: number[] = [];
    for await (const n of channel) seen.push(n);
    expect(seen).toEqual([1, 2]);
    expect(onAbandon).not.toHaveBeenCalled();
  });

  it('breaking out of for await abandons the stream once', async () => {
    const onAbandon = vi.fn();
    const channel = new ChunkChannel<number>(onAbandon);
    channel.push(1);
    channel.push(2);
    channel.push(3);
    for await (const n of channel) {
      if (n === 2) break;
    }
    expect(onAbandon).toHaveBeenCalledTimes(1);
    expect(await channel.next()).toStrictEqual(DONE);
  });

  it('for await throws the end(error) error', async () => {
    const channel = new ChunkChannel<number>(vi.fn());
    const error = new Error('failed');
    channel.push(1);
    channel.end(error);
    const seen: number[] = [];
    const run = async () => {
      for await (const n of channel) seen.push(n);
    };
    await expect(run()).rejects.toBe(error);
    expect(seen).toEqual([1]);
  });
});
