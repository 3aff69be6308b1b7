import { describe, expect, it } from 'vitest';
import { capacityStrategyNote, workerCapacity } from '../../../src/pool/capacity.js';

describe('worker capacity', () => {
  it.each([
    ['process', 10, 1],
    ['thread', 10, 10],
    ['thread', 8, 8],
  ] as const)('%s profile with threadsPerWorker %i runs %i calls at once', (workerProfile, threadsPerWorker, expected) => {
    expect(workerCapacity({ workerProfile, threadsPerWorker })).toBe(expected);
  });
});

describe('capacityStrategy', () => {
  it.each(['pool', 'hybrid'] as const)("'%s' schedules as named: no note", (capacityStrategy) => {
    expect(capacityStrategyNote({ name: 'ml', capacityStrategy })).toBeUndefined();
  });

  it("'profile' is scheduled like 'pool' and says so", () => {
    expect(capacityStrategyNote({ name: 'ml', capacityStrategy: 'profile' })).toEqual(expect.any(String));
  });
});
