import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { callTimeoutMs, type CallOptions, isCallbackError, Task } from '../../../src/pool/task.js';
import { isPoolFailure } from '../../../src/resilience/pool-circuit.js';

function hooks() {
  return {
    onTimeout: vi.fn<(task: Task) => void>(),
    onAbort: vi.fn<(task: Task, reason: unknown) => void>(),
    onChunkError: vi.fn<(task: Task, error: unknown) => void>(),
    onQueueTimeout: vi.fn<(task: Task) => void>(),
  };
}

function makeTask(options: CallOptions = {}, timeoutMs = 1_000, h = hooks()): { task: Task; hooks: ReturnType<typeof hooks> } {
  return { task: new Task('echo', { x: 1 }, options, undefined, timeoutMs, h), hooks: h };
}

/** The promise's outcome, without letting a rejection go unhandled. */
async function outcome(promise: Promise<unknown>): Promise<{ value: unknown } | { error: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Task fields', () => {
  it("has the caller's correlation id (a number from plain JS as its string), else one made for it and made only when read", () => {
    expect(makeTask({ correlationId: 'c-1' }).task).toMatchObject({ correlationId: 'c-1', correlationSeq: 0 });
    expect(makeTask({ correlationId: 42 as unknown as string }).task.correlationId).toBe('42');
    const made = makeTask({ correlationId: '' }).task; // an empty id is no id
    expect(made.correlationSeq).toBeGreaterThan(0);
    expect(made.correlationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // Made from the task's own number when read, not from the counter at that moment: later tasks do not change it.
    const first = made.correlationId;
    const later = makeTask().task;
    expect(later.correlationSeq).toBeGreaterThan(made.correlationSeq);
    expect(made.correlationId).toBe(first);
    expect(later.correlationId).not.toBe(first);
    expect(Number.parseInt(made.correlationId.slice(24), 16)).toBe(made.correlationSeq);
  });

  it('keeps the call and its options', () => {
    const onChunk = vi.fn();
    const task = new Task('tool', { a: 1 }, { sessionId: 's1', metadata: { m: 2 } }, onChunk, 1_000, hooks());
    expect(task).toMatchObject({ tool: 'tool', args: { a: 1 }, sessionId: 's1', metadata: { m: 2 }, onChunk, settled: false });
    expect(task.worker).toBeUndefined();
    expect(task.callId).toBeUndefined();
    expect(task.requiredWorkerId).toBeUndefined();
  });
});

describe('settling', () => {
  const first = new Error('first');
  const second = new Error('second');
  it.each([
    ['succeed, succeed', (t: Task) => (t.succeed(1), t.succeed(2)), { value: 1 }],
    ['succeed, fail', (t: Task) => (t.succeed(1), t.fail(second)), { value: 1 }],
    ['fail, succeed', (t: Task) => (t.fail(first), t.succeed(2)), { error: first }],
    ['fail, fail', (t: Task) => (t.fail(first), t.fail(second)), { error: first }],
  ])('%s: the first outcome wins', async (_label, settle, expected) => {
    const { task } = makeTask();
    const result = outcome(task.promise);
    settle(task);
    expect(task.settled).toBe(true);
    expect(await result).toStrictEqual(expected);
  });
});

describe('call timeout', () => {
  it('calls onTimeout once, after timeoutMs', () => {
    const { task, hooks: h } = makeTask({}, 500);
    vi.advanceTimersByTime(499);
    expect(h.onTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(h.onTimeout).toHaveBeenCalledTimes(1);
    expect(h.onTimeout).toHaveBeenCalledWith(task);
    vi.advanceTimersByTime(10_000);
    expect(h.onTimeout).toHaveBeenCalledTimes(1);
  });

  it('leaves settling to the hook', () => {
    const { task } = makeTask({}, 500);
    vi.advanceTimersByTime(500);
    expect(task.settled).toBe(false);
  });

  it.each([Infinity, NaN])('sets no timer for timeoutMs %s', (timeoutMs) => {
    const { hooks: h } = makeTask({}, timeoutMs);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1e9);
    expect(h.onTimeout).not.toHaveBeenCalled();
  });

  it.each([
    ['succeed', (t: Task) => t.succeed('ok')],
    ['fail', (t: Task) => t.fail(new Error('x'))],
  ])('is cleared by %s', async (_label, settle) => {
    const { task, hooks: h } = makeTask({}, 500);
    const result = outcome(task.promise);
    expect(vi.getTimerCount()).toBe(1);
    settle(task);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(h.onTimeout).not.toHaveBeenCalled();
    await result;
  });
});

describe('callTimeoutMs', () => {
  const config = { toolTimeouts: { train: 600_000, forever: 'infinity' as const }, defaultTimeoutMs: 60_000, defaultStreamTimeoutMs: 300_000 };

  it("takes the call's own timeoutMs, else its tool's, else the default for calls or streams", () => {
    expect(callTimeoutMs(config, 'train', { timeoutMs: 5 }, false)).toBe(5);
    expect(callTimeoutMs(config, 'train', {}, false)).toBe(600_000);
    expect(callTimeoutMs(config, 'train', {}, true)).toBe(600_000);
    expect(callTimeoutMs(config, 'other', {}, false)).toBe(60_000);
    expect(callTimeoutMs(config, 'other', {}, true)).toBe(300_000);
  });

  it("'infinity' is no deadline; only the config's own keys count", () => {
    expect(callTimeoutMs(config, 'forever', {}, false)).toBe(Infinity);
    expect(callTimeoutMs(config, 'constructor', {}, false)).toBe(60_000);
    expect(callTimeoutMs(config, 'toString', {}, true)).toBe(300_000);
  });
});

describe('abort signal', () => {
  it('calls onAbort with the reason when the signal fires', () => {
    const controller = new AbortController();
    const { task, hooks: h } = makeTask({ signal: controller.signal });
    expect(h.onAbort).not.toHaveBeenCalled();
    const reason = new Error('stop');
    controller.abort(reason);
    expect(h.onAbort).toHaveBeenCalledTimes(1);
    expect(h.onAbort).toHaveBeenCalledWith(task, reason);
  });

  it('calls onAbort synchronously in the constructor for an already-aborted signal', () => {
    const h = hooks();
    const reason = { why: 'already' };
    let seenInHook: Task | undefined;
    h.onAbort.mockImplementation((t) => {
      seenInHook = t;
    });
    const task = new Task('echo', {}, { signal: AbortSignal.abort(reason) }, undefined, 1_000, h);
    expect(h.onAbort).toHaveBeenCalledTimes(1);
    expect(h.onAbort).toHaveBeenCalledWith(task, reason);
    expect(seenInHook).toBe(task);
  });

  it('lets the hook settle the task from inside the constructor', async () => {
    const h = hooks();
    const error = new Error('aborted');
    h.onAbort.mockImplementation((t) => t.fail(error));
    const task = new Task('echo', {}, { signal: AbortSignal.abort() }, undefined, 1_000, h);
    expect(task.settled).toBe(true);
    expect(await outcome(task.promise)).toStrictEqual({ error });
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([
    ['succeed', (t: Task) => t.succeed('ok')],
    ['fail', (t: Task) => t.fail(new Error('x'))],
  ])('stops listening after %s', async (_label, settle) => {
    const controller = new AbortController();
    const { task, hooks: h } = makeTask({ signal: controller.signal });
    const result = outcome(task.promise);
    settle(task);
    controller.abort();
    expect(h.onAbort).not.toHaveBeenCalled();
    await result;
  });

  it('removes its listener from the signal on settle', () => {
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const { task } = makeTask({ signal: controller.signal });
    expect(add).toHaveBeenCalledTimes(1);
    task.succeed(null);
    expect(remove).toHaveBeenCalledTimes(1);
    expect(remove.mock.calls[0]?.[1]).toBe(add.mock.calls[0]?.[1]);
  });
});

describe('queue timer', () => {
  it('calls onQueueTimeout after its own timeout', () => {
    const { task, hooks: h } = makeTask({}, Infinity);
    const onExpire = h.onQueueTimeout;
    task.startQueueTimer(200);
    vi.advanceTimersByTime(199);
    expect(onExpire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  it('is stopped by clearQueueTimer', () => {
    const { task, hooks: h } = makeTask({}, Infinity);
    const onExpire = h.onQueueTimeout;
    task.startQueueTimer(200);
    expect(vi.getTimerCount()).toBe(1);
    task.clearQueueTimer();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(onExpire).not.toHaveBeenCalled();
  });

  it('is started once: a second start keeps the first deadline', () => {
    const { task, hooks: h } = makeTask({}, Infinity);
    task.startQueueTimer(200);
    vi.advanceTimersByTime(150);
    task.startQueueTimer(200);
    vi.advanceTimersByTime(50);
    expect(h.onQueueTimeout).toHaveBeenCalledTimes(1);
  });

  it('tolerates clearQueueTimer without a timer', () => {
    const { task } = makeTask({}, Infinity);
    expect(() => task.clearQueueTimer()).not.toThrow();
  });

  it('is cleared on settle along with the call timer', async () => {
    const { task, hooks: h } = makeTask({}, 500);
    const onExpire = h.onQueueTimeout;
    task.startQueueTimer(200);
    expect(vi.getTimerCount()).toBe(2);
    task.succeed(1);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(onExpire).not.toHaveBeenCalled();
    expect(h.onTimeout).not.toHaveBeenCalled();
    expect(await task.promise).toBe(1);
  });

  it('runs independently of the call timer', () => {
    const { task, hooks: h } = makeTask({}, 500);
    const onExpire = h.onQueueTimeout;
    task.startQueueTimer(200);
    vi.advanceTimersByTime(200);
    expect(onExpire).toHaveBeenCalledTimes(1);
    expect(h.onTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(300);
    expect(h.onTimeout).toHaveBeenCalledTimes(1);
  });
});

describe('retries and chunks', () => {
  it('is not idempotent unless asked', () => {
    expect(makeTask().task.idempotent).toBe(false);
    expect(makeTask({ idempotent: true }).task.idempotent).toBe(true);
  });

  it('prepareRetry counts the retry and forgets the worker, keeping the deadline', () => {
    const { task } = makeTask({ idempotent: true }, 5_000);
    const deadline = task.deadlineAt;
    task.markRunning({} as never, 7);
    task.prepareRetry();
    expect(task).toMatchObject({ retries: 1, worker: undefined, callId: undefined, deadlineAt: deadline, settled: false });
  });

  it('counts the chunks it forwards', () => {
    const onChunk = vi.fn();
    const task = new Task('s', {}, {}, onChunk, 1_000, hooks());
    task.chunk('a', false);
    task.chunk('b', true);
    expect(task.chunks).toBe(2);
    expect(onChunk.mock.calls).toEqual([
      ['a', false],
      ['b', true],
    ]);
    expect(new Task('u', {}, {}, undefined, 1_000, hooks()).streaming).toBe(false);
  });
});

describe('chunk callback', () => {
  it('a throw goes to onChunkError (marked as the caller\'s, not a pool failure); nothing reaches the callback once settled', () => {
    const mine = new Error('consumer failed');
    const onChunk = vi.fn((data: unknown) => {
      if (data === 2) throw mine;
    });
    const h = hooks();
    const task = new Task('tool', {}, {}, onChunk, 1_000, h);
    task.chunk(1, false);
    task.chunk(2, false);
    expect(h.onChunkError).toHaveBeenCalledWith(task, mine);
    expect(isCallbackError(mine)).toBe(true);
    expect(isPoolFailure(mine)).toBe(false);
    expect(isPoolFailure(new Error('other'))).toBe(true);
    task.fail(mine);
    task.promise.catch(() => {});
    task.chunk(3, false);
    expect(onChunk.mock.calls.map((c) => c[0])).toEqual([1, 2]);
    expect(task.chunks).toBe(2);
  });
});
