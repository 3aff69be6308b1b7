// Args that cannot cross fail typed at the call (invalid_args naming where they sit), nothing reaches the worker, and it keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { MAX_NESTING_DEPTH } from '../../src/transport/encodable.js';
import { startPool, TRANSPORT } from '../helpers/pool.js';

/** `depth` nested arrays around 1. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

// Python's msgpack reads 1024 levels from the root of what it decodes: the pipe's call frame is one
// of them, gRPC decodes the args alone. The args object itself is one more.
const deepestList = MAX_NESTING_DEPTH - 1 - (TRANSPORT === 'pipe' ? 1 : 0);

let sp: Snakepit;
let pid: number;
beforeAll(async () => {
  ({ sp } = await startPool({ adapter: 'echo_adapter.EchoAdapter' }, { logLevel: 'error' }));
  pid = await sp.execute<number>('pid');
});
afterAll(() => sp.stop());

const circular = () => {
  const message: Record<string, unknown> = { text: 'hi' };
  message.self = message;
  return message;
};

describe(`args that cannot cross (${TRANSPORT})`, () => {
  it.each([
    ['a circular structure', () => ({ message: circular() }), 'message.self', 'circular'],
    ['a Symbol', () => ({ message: { tag: Symbol('t') } }), 'message.tag', 'symbol'],
    ['a function', () => ({ onDone: () => {} }), 'onDone', 'function'],
    ['nesting past what Python reads', () => ({ message: nested(deepestList + 1) }), `message${'[0]'.repeat(deepestList)}`, 'too_deep'],
    ['nesting past the JS stack', () => ({ message: nested(100_000) }), `message${'[0]'.repeat(deepestList)}`, 'too_deep'],
  ])('%s: invalid_args with its path, the worker untouched', async (_label, args, path, reason) => {
    const before = sp.stats().requests;
    await expect(sp.execute('types_of', args())).rejects.toMatchObject({ code: 'invalid_args', category: 'validation', details: { path, reason } });
    // The same worker answers the next call: nothing undecodable reached it.
    await expect(sp.execute('pid')).resolves.toBe(pid);
    expect(sp.stats().requests - before).toBe(2);
  });

  it('the deepest nesting Python reads goes through', async () => {
    await expect(sp.execute('types_of', { message: nested(deepestList) })).resolves.toEqual({ types: { message: 'list' } });
  });

  it.each([[42], ['text'], [null], [[1, 2]]])('non-object args %j: rejected before dispatch', async (args) => {
    const before = sp.stats();
    await expect(sp.execute('types_of', args as unknown as Record<string, unknown>)).rejects.toMatchObject({ code: 'invalid_args', details: { reason: 'not_an_object' } });
    expect(sp.stats()).toMatchObject({ requests: before.requests, errors: before.errors });
  });
});
