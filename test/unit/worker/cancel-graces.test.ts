// Cancel graces on their own: a running call's grace starts at once, a waiting call's when it starts running.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CancelGraces } from '../../../src/worker/cancel-graces.js';

function graces(running: Set<number>, inFlight: Set<number>) {
  const expired: [number, number][] = [];
  const g = new CancelGraces({ has: (id) => inFlight.has(id), isRunning: (id) => running.has(id), expired: (id, ms) => expired.push([id, ms]) });
  return { g, expired };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('CancelGraces', () => {
  it('expires a running call after its grace unless it ends first', () => {
    const { g, expired } = graces(new Set([1, 2]), new Set([1, 2]));
    g.start(1, 100);
    g.start(2, 100);
    expect(g.has(1)).toBe(true);
    g.ended(2);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([[1, 100]]);
  });

  it('defers the grace of a waiting call until it runs, and drops it when it ends unstarted', () => {
    const running = new Set([1]);
    const inFlight = new Set([1, 2, 3]);
    const { g, expired } = graces(running, inFlight);
    g.start(2, 100);
    g.start(3, 100);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual([]);
    inFlight.delete(3); // ended without starting
    running.add(2); // call 1 ended: 2 runs now
    g.ended(1);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([[2, 100]]);
  });

  it('clear() stops every grace', () => {
    const { g, expired } = graces(new Set([1]), new Set([1]));
    g.start(1, 100);
    g.clear();
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual([]);
    expect(g.has(1)).toBe(false);
  });
});
