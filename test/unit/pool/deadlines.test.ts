// Shared deadline timers: order, clearing, re-entrancy, no timer left behind, delays past setTimeout's limit.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clearDeadline, setDeadline, type Deadline } from '../../../src/pool/deadlines.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const record = (fired: string[]) => (name: string, _: unknown) => fired.push(name);

describe('deadlines', () => {
  it('fire at their time, oldest first, each once; a cleared one never fires', () => {
    const fired: string[] = [];
    setDeadline(100, record(fired), 'a', null);
    vi.advanceTimersByTime(40);
    const b = setDeadline(100, record(fired), 'b', null);
    setDeadline(100, record(fired), 'c', null);
    clearDeadline(b);
    vi.advanceTimersByTime(59);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a']);
    vi.advanceTimersByTime(40);
    expect(fired).toEqual(['a', 'c']);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual(['a', 'c']);
  });

  it('durations have their own order: a short deadline set later fires first', () => {
    const fired: string[] = [];
    setDeadline(500, record(fired), 'long', null);
    setDeadline(50, record(fired), 'short', null);
    vi.advanceTimersByTime(500);
    expect(fired).toEqual(['short', 'long']);
  });

  it('leaves no timer once every deadline fired or was cleared (the process may exit)', () => {
    const d = setDeadline(1000, () => undefined, null, null);
    setDeadline(10, () => undefined, null, null);
    expect(vi.getTimerCount()).toBe(2);
    clearDeadline(d);
    vi.advanceTimersByTime(10);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a deadline that fires may clear or set others, in its own list too', () => {
    const fired: string[] = [];
    const earlier = setDeadline(20, record(fired), 'cleared by first', null);
    let dueWithIt: Deadline<string, null> | undefined;
    setDeadline(20, () => {
      fired.push('first');
      clearDeadline(earlier); // already fired: no effect
      clearDeadline(dueWithIt); // due in the same expiry, not fired yet: it never fires
      setDeadline(20, record(fired), 'set by first', null);
    }, null, null);
    dueWithIt = setDeadline<string, null>(20, record(fired), 'due with first', null);
    // `earlier` was set first, so it is due first: the list's order is the order deadlines were set.
    vi.advanceTimersByTime(20);
    expect(fired).toEqual(['cleared by first', 'first']);
    vi.advanceTimersByTime(20);
    expect(fired).toEqual(['cleared by first', 'first', 'set by first']);
  });

  it('waits for a delay past setTimeout limit instead of firing at once', () => {
    const fired: string[] = [];
    const longMs = 2 ** 31 + 5_000;
    setDeadline(longMs, record(fired), 'late', null);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(5_001);
    expect(fired).toEqual(['late']);
  });

  it('clearing twice, or after it fired, does nothing', () => {
    const fired: string[] = [];
    const d = setDeadline(5, record(fired), 'x', null);
    vi.advanceTimersByTime(5);
    clearDeadline(d);
    clearDeadline(d);
    clearDeadline(undefined);
    expect(fired).toEqual(['x']);
  });
});
