import { describe, expect, it, vi } from 'vitest';
import { ChunkChannel } from '../../../src/stream-iterator.js';
import { creditLink, pauseLink, StreamFlow } from '../../../src/transport/stream-flow.js';

describe('StreamFlow through a ChunkChannel', () => {
  it('counts chunks buffered: a chunk handed to a waiting consumer never waits', async () => {
    const flow = new StreamFlow(4);
    const levels: string[] = [];
    flow.attach({ received: (b) => levels.push(`+${b}`), taken: (b) => levels.push(`-${b}`) });
    const channel = new ChunkChannel<number>(vi.fn(), flow);
    const pending = channel.next();
    channel.push(1); // to the waiter: received and taken at once
    channel.push(2);
    channel.push(3);
    expect(await pending).toEqual({ value: 1, done: false });
    expect(flow.buffered).toBe(2);
    await channel.next();
    await channel.next();
    expect(levels).toEqual(['+1', '-0', '+1', '+2', '-1', '-0']);
  });
});

describe('creditLink (pipe)', () => {
  it('grants what the consumer took, half a window at a time, and holds Python once it sent a window ahead', () => {
    const flow = new StreamFlow(4);
    const grants: number[] = [];
    const held = vi.fn();
    flow.onHeld = held;
    const link = creditLink(flow, (n) => grants.push(n));
    for (let i = 0; i < 3; i++) link.received(i + 1);
    expect(flow.held).toBe(false);
    link.received(4); // the 4th chunk: Python's window is spent
    expect(flow.held).toBe(true);
    link.taken(3);
    expect(grants).toEqual([]);
    link.taken(2); // half a window taken: one grant of 2
    expect(grants).toEqual([2]);
    expect(flow.held).toBe(false);
    expect(held.mock.calls).toEqual([[true], [false]]);
  });
});

describe('pauseLink (gRPC)', () => {
  it('pauses the response stream at the high-water mark and resumes at half of it', () => {
    const flow = new StreamFlow(4);
    const stream = { pause: vi.fn(), resume: vi.fn() };
    const link = pauseLink(flow, stream);
    for (let b = 1; b <= 3; b++) link.received(b);
    expect(stream.pause).not.toHaveBeenCalled();
    link.received(4);
    link.received(5); // one already in flight: paused once
    expect(stream.pause).toHaveBeenCalledTimes(1);
    expect(flow.held).toBe(true);
    link.taken(4);
    link.taken(3);
    expect(stream.resume).not.toHaveBeenCalled();
    link.taken(2);
    expect(stream.resume).toHaveBeenCalledTimes(1);
    expect(flow.held).toBe(false);
  });
});
