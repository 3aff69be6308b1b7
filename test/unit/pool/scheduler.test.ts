import { describe, expect, it } from 'vitest';
import { type AffinityMode, place, placePinned, reentrantCandidates, type SchedulableWorker } from '../../../src/pool/scheduler.js';

type State = 'free' | 'pipelinable' | 'full';

/** A worker: `free` has a free slot, `pipelinable` only room in its pipeline, `full` neither. */
function w(id: string, state: State, load: number, capacity = 1): SchedulableWorker {
  return { id, availableAt: () => state !== 'full', hasFreeSlot: state === 'free', load, capacity };
}

const MODES: AffinityMode[] = ['prefer', 'strict_queue', 'strict_fail_fast'];

/** The placement with the chosen worker replaced by its id, for compact tables. */
function placeIds(workers: SchedulableWorker[], bound: string | undefined, mode: AffinityMode): unknown {
  const p = place(workers, bound, mode, 0);
  return p.kind === 'run' ? { kind: 'run', worker: p.worker.id } : p;
}

describe('without a session', () => {
  const cases: [string, SchedulableWorker[], unknown][] = [
    ['no workers: queue', [], { kind: 'queue' }],
    ['all full: queue', [w('a', 'full', 1), w('b', 'full', 1)], { kind: 'queue' }],
    ['the only available worker', [w('a', 'full', 0), w('b', 'free', 5)], { kind: 'run', worker: 'b' }],
    ['least loaded', [w('a', 'free', 3), w('b', 'free', 1), w('c', 'free', 2)], { kind: 'run', worker: 'b' }],
    ['first on ties', [w('a', 'free', 1), w('b', 'free', 1), w('c', 'free', 1)], { kind: 'run', worker: 'a' }],
    ['first of the tied least loaded', [w('a', 'free', 2), w('b', 'free', 1), w('c', 'free', 1)], { kind: 'run', worker: 'b' }],
    ['skips a full worker even with the lowest load', [w('a', 'full', 0), w('b', 'free', 2), w('c', 'free', 3)], { kind: 'run', worker: 'b' }],
    ['a pipelinable worker when none is free', [w('a', 'full', 1), w('b', 'pipelinable', 2)], { kind: 'run', worker: 'b' }],
    ['a free slot (lower load) beats a pipeline', [w('a', 'pipelinable', 2), w('b', 'free', 1)], { kind: 'run', worker: 'b' }],
    ['least-loaded pipeline', [w('a', 'pipelinable', 3), w('b', 'pipelinable', 2)], { kind: 'run', worker: 'b' }],
  ];
  const table = MODES.flatMap((mode) => cases.map(([label, workers, expected]) => [mode, label, workers, expected] as const));

  it.each(table)('%s: %s', (mode, _label, workers, expected) => {
    expect(placeIds(workers, undefined, mode)).toStrictEqual(expected);
  });

  it('asks each worker whether it can take the call at the time it was given', () => {
    // Pipelinable until its running call has run 5 ms (then a call would wait behind a long one).
    const busy: SchedulableWorker = { id: 'a', availableAt: (nowMs) => nowMs < 5, hasFreeSlot: false, load: 1, capacity: 1 };
    expect(placeIds([busy], undefined, 'prefer')).toEqual({ kind: 'run', worker: 'a' });
    expect(place([busy], undefined, 'prefer', 7)).toEqual({ kind: 'queue' });
    expect(placePinned([{ ...busy, state: 'busy' }], 'a', undefined, 7)).toEqual({ kind: 'queue', workerId: 'a' });
  });

  it('returns the worker object itself', () => {
    const b = w('b', 'free', 0);
    const placement = place([w('a', 'free', 1), b], undefined, 'prefer', 0);
    expect(placement.kind === 'run' && placement.worker).toBe(b);
  });
});

describe('with a session bound to worker "s"', () => {
  it.each([
    // [mode, situation, workers, expected]
    // Bound worker has a free slot: it runs there in every mode, even when others are less loaded.
    ['prefer', 'bound free', [w('a', 'free', 0), w('s', 'free', 3)], { kind: 'run', worker: 's' }],
    ['strict_queue', 'bound free', [w('a', 'free', 0), w('s', 'free', 3)], { kind: 'run', worker: 's' }],
    ['strict_fail_fast', 'bound free', [w('a', 'free', 0), w('s', 'free', 3)], { kind: 'run', worker: 's' }],

    // Bound worker busy but could take a pipelined call.
    ['prefer', 'bound pipelinable, another free', [w('s', 'pipelinable', 1), w('a', 'free', 0)], { kind: 'run', worker: 'a' }],
    ['prefer', 'bound pipelinable and least loaded', [w('a', 'pipelinable', 2), w('s', 'pipelinable', 1)], { kind: 'run', worker: 's' }],
    ['strict_queue', 'bound pipelinable, another free', [w('s', 'pipelinable', 1), w('a', 'free', 0)], { kind: 'queue', workerId: 's' }],
    ['strict_fail_fast', 'bound pipelinable, another free', [w('s', 'pipelinable', 1), w('a', 'free', 0)], { kind: 'busy', workerId: 's' }],

    // Bound worker full.
    ['prefer', 'bound full, another free', [w('s', 'full', 2), w('a', 'free', 1)], { kind: 'run', worker: 'a' }],
    ['prefer', 'bound full, all full', [w('s', 'full', 2), w('a', 'full', 1)], { kind: 'queue' }],
    ['strict_queue', 'bound full', [w('s', 'full', 2), w('a', 'free', 0)], { kind: 'queue', workerId: 's' }],
    ['strict_fail_fast', 'bound full', [w('s', 'full', 2), w('a', 'free', 0)], { kind: 'busy', workerId: 's' }],

    // Bound worker gone.
    ['prefer', 'bound gone, others available', [w('a', 'free', 2), w('b', 'free', 1)], { kind: 'run', worker: 'b' }],
    ['prefer', 'bound gone, none available', [w('a', 'full', 1)], { kind: 'queue' }],
    ['prefer', 'bound gone, no workers', [], { kind: 'queue' }],
    ['strict_queue', 'bound gone', [w('a', 'free', 0)], { kind: 'gone', workerId: 's' }],
    ['strict_queue', 'bound gone, no workers', [], { kind: 'gone', workerId: 's' }],
    ['strict_fail_fast', 'bound gone', [w('a', 'free', 0)], { kind: 'gone', workerId: 's' }],
  ] as [AffinityMode, string, SchedulableWorker[], unknown][])('%s, %s', (mode, _situation, workers, expected) => {
    expect(placeIds(workers, 's', mode)).toStrictEqual(expected);
  });
});

describe('calls made from inside a host tool (re-entrancy)', () => {
  it('is a deadlock when the only single-slot worker is the one waiting', () => {
    const a = w('a', 'pipelinable', 1);
    expect(reentrantCandidates([a], new Set([a]), undefined, 'prefer')).toBe('deadlock');
  });

  it('routes to the workers outside the chain', () => {
    const a = w('a', 'pipelinable', 1);
    const b = w('b', 'full', 1);
    const result = reentrantCandidates([a, b], new Set([a]), undefined, 'prefer');
    expect(result).toEqual([b]);
    // b is busy, so the call queues for it rather than being pipelined behind a's waiting call.
    expect(place(result as SchedulableWorker[], undefined, 'prefer', 0)).toEqual({ kind: 'queue' });
  });

  it('lets a blocked worker with a free slot (thread profile) take the call', () => {
    const a = w('a', 'free', 0.5, 2);
    expect(reentrantCandidates([a], new Set([a]), undefined, 'prefer')).toEqual([a]);
  });

  it('is a deadlock when strict affinity binds the call to a blocked worker', () => {
    const a = w('a', 'pipelinable', 1);
    const b = w('b', 'free', 0);
    for (const mode of ['strict_queue', 'strict_fail_fast'] as const) expect(reentrantCandidates([a, b], new Set([a]), 'a', mode)).toBe('deadlock');
    expect(reentrantCandidates([a, b], new Set([a]), 'a', 'prefer')).toEqual([b]);
  });

  it('is a deadlock when every worker is blocked, each with one slot', () => {
    const a = w('a', 'pipelinable', 1);
    const b = w('b', 'full', 1);
    expect(reentrantCandidates([a, b], new Set([a, b]), undefined, 'prefer')).toBe('deadlock');
  });
});

describe('placePinned (the caller chose the worker)', () => {
  const live = (id: string, state: State, capacity = 1, workerState = 'ready') => ({ ...w(id, state, 0, capacity), state: workerState });
  const ids = (p: ReturnType<typeof placePinned>) => (p.kind === 'run' ? { kind: 'run', worker: p.worker.id } : p);

  it.each([
    ['free: runs there, even when another is less loaded', [live('a', 'free'), live('b', 'free')], 'b', { kind: 'run', worker: 'b' }],
    ['room in its pipeline: runs there', [live('a', 'free'), live('b', 'pipelinable')], 'b', { kind: 'run', worker: 'b' }],
    ['full: waits for that worker only', [live('a', 'free'), live('b', 'full')], 'b', { kind: 'queue', workerId: 'b' }],
    ['unknown id', [live('a', 'free')], 'zz', { kind: 'unknown', workerId: 'zz' }],
    ['draining (recycled or removed): unknown', [live('a', 'free'), live('b', 'full', 1, 'draining')], 'b', { kind: 'unknown', workerId: 'b' }],
    ['still starting: unknown', [live('a', 'full', 1, 'starting')], 'a', { kind: 'unknown', workerId: 'a' }],
  ] as const)('%s', (_name, workers, id, expected) => {
    expect(ids(placePinned(workers, id, undefined, 0))).toEqual(expected);
  });

  it('a worker blocked in the host-tool chain: deadlock with one slot, a free slot only otherwise', () => {
    const one = live('a', 'free');
    expect(placePinned([one], 'a', new Set([one]), 0)).toEqual({ kind: 'deadlock', workerId: 'a' });
    const free = live('b', 'free', 4);
    expect(ids(placePinned([free], 'b', new Set([free]), 0))).toEqual({ kind: 'run', worker: 'b' });
    const pipelinable = live('c', 'pipelinable', 4);
    expect(placePinned([pipelinable], 'c', new Set([pipelinable]), 0)).toEqual({ kind: 'queue', workerId: 'c' });
  });
});
