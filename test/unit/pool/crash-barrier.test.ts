import { describe, expect, it } from 'vitest';
import { WorkerError, PythonError, TimeoutError } from '../../../src/errors.js';
import {
  avoidTainted,
  classifyCrash,
  CRASH_BARRIER_DEFAULTS,
  CrashBarrier,
  oomKilledSince,
  RestartWindow,
  marks,
  retryBackoffMs,
  retryDelay,
  Taints,
  withCrashInfo,
  type CrashBarrierOptions,
} from '../../../src/pool/crash-barrier.js';
import type { WorkerExit } from '../../../src/worker/worker.js';

const exit = (e: Partial<WorkerExit>): WorkerExit => ({ exitCode: null, signal: null, expected: false, ...e });

describe('classifyCrash', () => {
  it('a signal the host did not send', () => {
    expect(classifyCrash(exit({ signal: 'SIGSEGV' }), false)).toEqual({ reason: 'signal', classification: 'segfault', signal: 'SIGSEGV', exitCode: null });
  });

  // The original's classification (crash_barrier.ex): 139 segfault, 134 abort, 137 oom, CUDA/GPU text gpu, else unknown.
  it.each([
    [{ signal: 'SIGSEGV' }, 'segfault'],
    [{ exitCode: 139 }, 'segfault'],
    [{ signal: 'SIGABRT' }, 'abort'],
    [{ exitCode: 134 }, 'abort'],
    [{ signal: 'SIGKILL' }, 'oom'],
    [{ exitCode: 1 }, 'unknown'],
    [{ signal: 'SIGTERM' }, 'unknown'],
  ] as const)("classifies %o as the original's %s", (e, classification) => {
    expect(classifyCrash(exit(e), false)).toMatchObject({ classification });
  });

  it("gpu when the worker's last stderr lines mention CUDA or a GPU (before the exit code), device cuda for CUDA", () => {
    const cuda = 'Traceback (most recent call last):\nRuntimeError: CUDA error: an illegal memory access was encountered';
    expect(classifyCrash(exit({ signal: 'SIGABRT' }), false, undefined, cuda)).toMatchObject({ reason: 'signal', classification: 'gpu', device: 'cuda' });
    expect(classifyCrash(exit({ exitCode: 1 }), false, undefined, 'fatal: GPU fell off the bus')).toMatchObject({ classification: 'gpu' });
    expect(classifyCrash(exit({ exitCode: 1 }), false, undefined, 'fatal: GPU fell off the bus')).not.toHaveProperty('device');
    // Start-up chatter long before the end is not its last words.
    const early = ['using CUDA device 0', ...Array.from({ length: 10 }, (_, i) => `line ${i}`)].join('\n');
    expect(classifyCrash(exit({ exitCode: 1 }), false, undefined, early)).toMatchObject({ classification: 'unknown' });
    expect(classifyCrash(exit({ exitCode: 1 }), false, undefined, 'gpustat missing')).toMatchObject({ classification: 'unknown' });
  });

  it('an exit code', () => {
    expect(classifyCrash(exit({ exitCode: 3 }), false)).toMatchObject({ reason: 'exit_code', exitCode: 3 });
    expect(classifyCrash(exit({ exitCode: 0 }), false)).toMatchObject({ reason: 'exit_code', exitCode: 0 });
  });

  it('SIGKILL from outside: oom when the cgroup counted an OOM kill or cannot tell, signal when it counted none', () => {
    expect(classifyCrash(exit({ signal: 'SIGKILL' }), false, true)).toMatchObject({ reason: 'oom' });
    expect(classifyCrash(exit({ signal: 'SIGKILL' }), false, undefined)).toMatchObject({ reason: 'oom' });
    expect(classifyCrash(exit({ signal: 'SIGKILL' }), false, false)).toMatchObject({ reason: 'signal', signal: 'SIGKILL' });
    expect(classifyCrash(exit({ exitCode: 137 }), false, undefined)).toMatchObject({ reason: 'oom' });
    expect(classifyCrash(exit({ exitCode: 137 }), false, false)).toMatchObject({ reason: 'exit_code' });
  });

  it('host kills: heartbeat, or anything else the host killed it for', () => {
    expect(classifyCrash(exit({ signal: 'SIGKILL', expected: true, reason: 'heartbeat: 3 missed' }), false)).toMatchObject({ reason: 'heartbeat', hostReason: 'heartbeat: 3 missed' });
    expect(classifyCrash(exit({ signal: 'SIGKILL', expected: true, reason: 'call 4 ignored cancellation for 2000 ms' }), false)).toMatchObject({ reason: 'killed_by_host' });
  });

  it('an attached worker that went away', () => {
    expect(classifyCrash(exit({}), true)).toMatchObject({ reason: 'disconnected' });
  });
});

describe('oomKilledSince', () => {
  it('is undefined without a readable counter', () => {
    expect(oomKilledSince(undefined)).toBeUndefined();
    expect(oomKilledSince({ file: '/nonexistent/memory.events', before: 0 })).toBeUndefined();
  });
});

describe('RestartWindow', () => {
  it('removes a slot on the crash after maxRestarts within the window', () => {
    const window = new RestartWindow(2, 60_000);
    expect(window.record(0, 0)).toBe(false);
    expect(window.record(0, 1_000)).toBe(false);
    expect(window.record(1, 1_500)).toBe(false);
    expect(window.record(0, 2_000)).toBe(true);
  });

  it('forgets crashes older than the window', () => {
    const window = new RestartWindow(1, 10_000);
    expect(window.record(0, 0)).toBe(false);
    expect(window.record(0, 10_000)).toBe(false);
    expect(window.count(0, 10_000)).toBe(1);
    expect(window.record(0, 15_000)).toBe(true);
  });
});

describe('Taints', () => {
  it('expire', () => {
    const taints = new Taints();
    taints.taint(3, 5_000);
    expect(taints.isTainted(3, 4_999)).toBe(true);
    expect(taints.isTainted(3, 5_000)).toBe(false);
    expect(taints.isTainted(2, 0)).toBe(false);
    expect(taints.isTainted(undefined, 0)).toBe(false);
  });

  it('a later taint extends, an earlier one does not shorten', () => {
    const taints = new Taints();
    taints.taint(0, 5_000);
    taints.taint(0, 3_000);
    expect(taints.isTainted(0, 4_000)).toBe(true);
  });
});

describe('marks', () => {
  it("names a crash by the original's classification or by our reason", () => {
    expect(marks(['segfault', 'oom', 'gpu'], { reason: 'signal', classification: 'segfault' })).toBe(true);
    expect(marks(['segfault', 'oom', 'gpu'], { reason: 'oom', classification: 'oom' })).toBe(true);
    expect(marks(['segfault', 'oom', 'gpu'], { reason: 'exit_code', classification: 'unknown' })).toBe(false);
    expect(marks(['segfault', 'oom', 'gpu'], { reason: 'signal', classification: 'abort' })).toBe(false);
    expect(marks(['exit_code'], { reason: 'exit_code', classification: 'unknown' })).toBe(true);
    expect(marks(['heartbeat'], { reason: 'heartbeat', classification: 'unknown' })).toBe(true);
    expect(marks([], { reason: 'oom', classification: 'oom' })).toBe(false);
  });
});

describe('CrashBarrier', () => {
  const on: CrashBarrierOptions = { ...CRASH_BARRIER_DEFAULTS, enabled: true, maxRestarts: 1, taintMs: 1_000 };
  const segfault = { reason: 'signal', classification: 'segfault' } as const;
  const exited = { reason: 'exit_code', classification: 'unknown' } as const;

  it('has the original markOn list by default', () => {
    expect(CRASH_BARRIER_DEFAULTS.markOn).toEqual(['segfault', 'oom', 'gpu']);
  });

  it('taints the slot of a crash markOn names, then removes it past maxRestarts', () => {
    const barrier = new CrashBarrier(on);
    expect(barrier.onCrash(0, 10_000, segfault)).toBe('taint');
    expect(barrier.isTainted(0, 10_500)).toBe(true);
    expect(barrier.isTainted(0, 11_000)).toBe(false);
    expect(barrier.onCrash(0, 12_000, segfault)).toBe('remove');
  });

  it('a crash markOn does not name restarts without a taint, yet counts toward removal', () => {
    const barrier = new CrashBarrier(on);
    expect(barrier.onCrash(0, 10_000, exited)).toBe('restart');
    expect(barrier.isTainted(0, 10_001)).toBe(false);
    expect(barrier.onCrash(0, 10_002, exited)).toBe('remove');
    const wide = new CrashBarrier({ ...on, markOn: ['exit_code'] });
    expect(wide.onCrash(0, 10_000, exited)).toBe('taint');
    expect(new CrashBarrier({ ...on, taintMs: 0 }).onCrash(0, 10_000, segfault)).toBe('restart');
  });

  it('off: always restarts, never taints', () => {
    const barrier = new CrashBarrier();
    for (let i = 0; i < 10; i++) expect(barrier.onCrash(0, i, segfault)).toBe('restart');
    expect(barrier.isTainted(0, 0)).toBe(false);
  });

  it('remembers the classification of a worker for its calls', () => {
    const barrier = new CrashBarrier(on);
    const worker = { attached: false };
    expect(barrier.crashOf(worker)).toBeUndefined();
    barrier.classify(worker, exit({ signal: 'SIGABRT' }));
    expect(barrier.crashOf(worker)).toMatchObject({ reason: 'signal', classification: 'abort', signal: 'SIGABRT' });
    const gpuWorker = { attached: false, recentStderr: 'CUDA error: device-side assert triggered' };
    expect(barrier.classify(gpuWorker, exit({ signal: 'SIGABRT' }))).toMatchObject({ classification: 'gpu', device: 'cuda' });
  });
});

describe('retryBackoffMs', () => {
  it("gives the original's 50, 100, 200 ms by default, then stays at maxMs", () => {
    const backoff = CRASH_BARRIER_DEFAULTS.retryBackoff;
    expect([1, 2, 3, 4].map((attempt) => retryBackoffMs(backoff, attempt))).toEqual([50, 100, 200, 200]);
    expect([1, 2, 3].map((attempt) => retryBackoffMs({ initialMs: 10, multiplier: 3, maxMs: 1_000 }, attempt))).toEqual([10, 30, 90]);
    expect(retryBackoffMs({ initialMs: 0, multiplier: 2, maxMs: 100 }, 3)).toBe(0);
  });
});

describe('retryDelay', () => {
  const on: CrashBarrierOptions = { ...CRASH_BARRIER_DEFAULTS, enabled: true, maxRetries: 2 };
  const call = { idempotent: true, retries: 0, chunks: 0, deadlineAt: Infinity };
  const crashed = new WorkerError('gone', 'worker_crashed');

  it('retries an idempotent call whose worker crashed or hung, after the backoff of its attempt', () => {
    expect(retryDelay(on, call, crashed, 0)).toBe(50);
    expect(retryDelay(on, { ...call, retries: 1 }, new WorkerError('hung', 'worker_hung'), 0)).toBe(100);
  });

  it("retry 'always' retries calls not marked idempotent too; 'never' and an off barrier none", () => {
    expect(retryDelay({ ...on, retry: 'always' }, { ...call, idempotent: false }, crashed, 0)).toBe(50);
    expect(retryDelay(on, { ...call, idempotent: false }, crashed, 0)).toBeUndefined();
    expect(retryDelay({ ...on, retry: 'never' }, call, crashed, 0)).toBeUndefined();
    expect(retryDelay({ ...on, enabled: false }, call, crashed, 0)).toBeUndefined();
  });

  it('not out of retries, past the deadline after the wait, after a chunk, or when pinned to its worker', () => {
    expect(retryDelay(on, { ...call, retries: 2 }, crashed, 0)).toBeUndefined();
    expect(retryDelay(on, { ...call, deadlineAt: 100 }, crashed, 50)).toBeUndefined();
    expect(retryDelay(on, { ...call, deadlineAt: 100 }, crashed, 49)).toBe(50);
    expect(retryDelay(on, { ...call, chunks: 1 }, crashed, 0)).toBeUndefined();
    expect(retryDelay(on, { ...call, workerId: 'p-1' }, crashed, 0)).toBeUndefined();
  });

  it('not for answers: Python errors, timeouts, other worker errors', () => {
    expect(retryDelay(on, call, new PythonError('boom', { exceptionType: 'ValueError', pythonTraceback: '' }), 0)).toBeUndefined();
    expect(retryDelay(on, call, new TimeoutError('late', 'call_timeout', 10), 0)).toBeUndefined();
    expect(retryDelay(on, call, new WorkerError('no', 'protocol_error'), 0)).toBeUndefined();
    expect(retryDelay(on, call, new Error('plain'), 0)).toBeUndefined();
  });
});

describe('withCrashInfo', () => {
  it('adds the classification to a crash error, keeping code and details', () => {
    const error = new WorkerError('gone', 'worker_crashed', { workerId: 'w-1', signal: 'SIGKILL', exitCode: null });
    const annotated = withCrashInfo(error, { reason: 'oom', classification: 'oom', signal: 'SIGKILL', exitCode: null });
    expect(annotated).toBeInstanceOf(WorkerError);
    expect(annotated).toMatchObject({ code: 'worker_crashed', workerId: 'w-1', details: { workerId: 'w-1', crash: { reason: 'oom' } } });
  });

  it('leaves other errors alone', () => {
    const error = new TimeoutError('late', 'call_timeout', 10);
    expect(withCrashInfo(error, { reason: 'signal', classification: 'segfault', signal: 'SIGSEGV', exitCode: null })).toBe(error);
    const crashed = new WorkerError('gone', 'worker_crashed');
    expect(withCrashInfo(crashed, undefined)).toBe(crashed);
  });
});

describe('avoidTainted', () => {
  const w = (id: string, state = 'ready') => ({ id, state });
  const tainted = new Set(['b']);
  const isTainted = (x: { id: string }) => tainted.has(x.id);

  it('drops tainted workers while an untainted one is live', () => {
    expect(avoidTainted([w('a', 'busy'), w('b')], isTainted).map((x) => x.id)).toEqual(['a']);
  });

  it('keeps everyone when no untainted worker is live', () => {
    expect(avoidTainted([w('a', 'draining'), w('b')], isTainted).map((x) => x.id)).toEqual(['a', 'b']);
    expect(avoidTainted([w('b')], isTainted).map((x) => x.id)).toEqual(['b']);
  });

  it("keeps a session's own worker", () => {
    expect(avoidTainted([w('a'), w('b')], isTainted, 'b').map((x) => x.id)).toEqual(['a', 'b']);
  });
});
