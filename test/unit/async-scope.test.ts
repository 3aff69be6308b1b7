// runScoped (src/async-scope.ts): the store holds for each run while it is in flight, concurrent
// runs keep the storage on for each other, and (where the storage is built on async hooks: Node 20
// and 22) it is off again once the last run ended, however it ended.
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { runScoped } from '../../src/async-scope.js';

/** `enabled` of an async-hooks storage (Node 20/22); undefined for Node 24's AsyncContextFrame storage. */
const enabledOf = (storage: AsyncLocalStorage<unknown>): boolean | undefined => (storage as unknown as { enabled?: boolean }).enabled;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('runScoped', () => {
  it('gives each run its store across awaits, while another run that ends first is over', async () => {
    const storage = new AsyncLocalStorage<string>();
    const gateA = deferred();
    const gateB = deferred();
    const seen: (string | undefined)[] = [];
    const a = runScoped(storage, 'A', async () => {
      await gateA.promise;
      seen.push(storage.getStore());
    });
    const b = runScoped(storage, 'B', async () => {
      await gateB.promise;
      seen.push(storage.getStore());
    });
    gateB.resolve();
    await b;
    if (enabledOf(storage) !== undefined) expect(enabledOf(storage)).toBe(true); // A still runs
    gateA.resolve();
    await a;
    expect(seen).toEqual(['B', 'A']);
    expect(storage.getStore()).toBeUndefined();
    if (enabledOf(storage) !== undefined) expect(enabledOf(storage)).toBe(false);
  });

  it('turns the storage off after a run that returns, throws, or rejects, and hands back what it gave', async () => {
    const storage = new AsyncLocalStorage<number>();
    expect(runScoped(storage, 1, () => storage.getStore())).toBe(1);
    if (enabledOf(storage) !== undefined) expect(enabledOf(storage)).toBe(false);

    const thrown = new Error('sync');
    expect(() =>
      runScoped(storage, 2, () => {
        throw thrown;
      }),
    ).toThrow(thrown);
    if (enabledOf(storage) !== undefined) expect(enabledOf(storage)).toBe(false);

    const rejected = new Error('async');
    await expect(runScoped(storage, 3, () => Promise.reject(rejected))).rejects.toBe(rejected);
    if (enabledOf(storage) !== undefined) expect(enabledOf(storage)).toBe(false);

    // A later run turns it on again.
    expect(runScoped(storage, 4, () => storage.getStore())).toBe(4);
  });
});
