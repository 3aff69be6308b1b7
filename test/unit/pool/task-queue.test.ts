import { describe, expect, it } from 'vitest';
import { FifoTaskQueue } from '../../../src/pool/task-queue.js';

interface Item {
  name: string;
  worker?: string;
}

function queueOf(...names: string[]): { queue: FifoTaskQueue<Item>; items: Record<string, Item> } {
  const queue = new FifoTaskQueue<Item>();
  const items: Record<string, Item> = {};
  for (const name of names) {
    const [id, worker] = name.split('@') as [string, string | undefined];
    const item: Item = worker === undefined ? { name: id } : { name: id, worker };
    items[id] = item;
    queue.push(item);
  }
  return { queue, items };
}

const names = (items: Item[]): string[] => items.map((i) => i.name);

describe('FifoTaskQueue', () => {
  it('starts empty', () => {
    const queue = new FifoTaskQueue<Item>();
    expect(queue.size).toBe(0);
    expect(queue.drain()).toEqual([]);
    expect(queue.takeFirst(() => true)).toBeUndefined();
  });

  it('keeps arrival order and counts its items', () => {
    const { queue } = queueOf('a', 'b', 'c');
    expect(queue.size).toBe(3);
    expect(names(queue.drain())).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['first', 'a', ['b', 'c', 'd']],
    ['middle', 'c', ['a', 'b', 'd']],
    ['last', 'd', ['a', 'b', 'c']],
  ])('removes the %s item and keeps the order of the rest', (_where, name, rest) => {
    const { queue, items } = queueOf('a', 'b', 'c', 'd');
    expect(queue.remove(items[name] as Item)).toBe(true);
    expect(queue.size).toBe(3);
    expect(names(queue.drain())).toEqual(rest);
  });

  it('reports false when removing an item that is not queued', () => {
    const { queue, items } = queueOf('a', 'b');
    expect(queue.remove({ name: 'a' })).toBe(false); // equal but not the same object
    expect(queue.remove(items.a as Item)).toBe(true);
    expect(queue.remove(items.a as Item)).toBe(false);
    expect(queue.size).toBe(1);
  });

  it('puts a re-pushed item at the back', () => {
    const { queue, items } = queueOf('a', 'b', 'c');
    queue.remove(items.a as Item);
    queue.push(items.a as Item);
    expect(names(queue.drain())).toEqual(['b', 'c', 'a']);
  });

  it.each([
    ['any item: the oldest', () => true, 'a', ['b@w1', 'c@w2', 'd@w1']],
    ['the first for w1', (i: Item) => i.worker === 'w1', 'b', ['a', 'c@w2', 'd@w1']],
    ['the first for w2', (i: Item) => i.worker === 'w2', 'c', ['a', 'b@w1', 'd@w1']],
    ['the first unpinned', (i: Item) => i.worker === undefined, 'a', ['b@w1', 'c@w2', 'd@w1']],
    ['none match', (i: Item) => i.worker === 'w3', undefined, ['a', 'b@w1', 'c@w2', 'd@w1']],
  ])('takeFirst: %s', (_label, accept, taken, rest) => {
    const { queue } = queueOf('a', 'b@w1', 'c@w2', 'd@w1');
    expect(queue.takeFirst(accept)?.name).toBe(taken);
    expect(queue.size).toBe(rest.length);
    expect(queue.drain().map((i) => (i.worker ? `${i.name}@${i.worker}` : i.name))).toEqual(rest);
  });

  it('takeFirst asks the predicate in arrival order and stops at the first match', () => {
    const { queue } = queueOf('a', 'b', 'c', 'd');
    const asked: string[] = [];
    queue.takeFirst((i) => {
      asked.push(i.name);
      return i.name === 'c';
    });
    expect(asked).toEqual(['a', 'b', 'c']);
  });

  it('drain empties the queue', () => {
    const { queue } = queueOf('a', 'b');
    expect(names(queue.drain())).toEqual(['a', 'b']);
    expect(queue.size).toBe(0);
    expect(queue.drain()).toEqual([]);
    queue.push({ name: 'c' });
    expect(names(queue.drain())).toEqual(['c']);
  });

  it.each([
    ['before every younger one', 'c', ['a', 'c', 'd', 'e']],
    ['first when all are younger', 'a', ['a', 'c', 'd', 'e']],
    ['last when none is younger', 'f', ['c', 'd', 'e', 'f']],
  ])('putBack places a returning item %s', (_label, name, order) => {
    const { queue } = queueOf(...order.filter((n) => n !== name));
    queue.putBack({ name }, (queued) => queued.name > name);
    expect(names(queue.drain())).toEqual(order);
  });

  it('putBack keeps the order of items taken back one after another, in any order', () => {
    const { queue } = queueOf('e', 'f');
    for (const name of ['c', 'a', 'd', 'b']) queue.putBack({ name }, (queued) => queued.name > name);
    expect(names(queue.drain())).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('some tells whether a queued item passes the test, leaving the queue as it was', () => {
    const { queue } = queueOf('a', 'b', 'c');
    expect(queue.some((i) => i.name === 'b')).toBe(true);
    expect(queue.some((i) => i.name === 'z')).toBe(false);
    expect(names(queue.drain())).toEqual(['a', 'b', 'c']);
  });
});
