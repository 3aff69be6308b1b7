import { describe, expect, it } from 'vitest';
import { WorkerError, PythonError, TimeoutError } from '../../../src/errors.js';
import {
  avoidTainted,
  classifyCrash,
  CRASH_BARRIER_DEFAULTS,
  CrashBarrier,
  oomKilledSince,
  RestartWindow,
  retryAllowed,
  Taints,
  withCrashInfo,
  type CrashBarrierOptions,
} from '../../../src/pool/crash-barrier.js';
import type { WorkerExit } from '../../../src/worker/worker.js';

const exit = (e: Partial<WorkerExit>): WorkerExit => ({ exitCode: null, signal: null, expected: false, ...e });

describe('classifyCrash', () => {
  it('a signal the host did not send', () => {
    expect(classifyCrash(exit({ signal: 'SIGSEGV' }), false)).toEqual({ reason: 'signal', signal: 'SIGSEGV', exitCode: null });
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

describe('CrashBarrier', () => {
  const on: CrashBarrierOptions = { ...CRASH_BARRIER_DEFAULTS, enabled: true, maxRestarts: 1, taintMs: 1_000 };

  it('taints the slot of a crash, then removes it past maxRestarts', () => {
    const barrier = new CrashBarrier(on);
    expect(barrier.onCrash(0, 10_000)).toBe('restart');
    expect(barrier.isTainted(0, 10_500)).toBe(true);
    expect(barrier.isTainted(0, 11_000)).toBe(false);
    expect(barrier.onCrash(0, 12_000)).toBe('remove');
  });

  it('off: always restarts, never taints', () => {
    const barrier = new CrashBarrier();
    for (let i = 0; i < 10; i++) expect(barrier.onCrash(0, i)).toBe('restart');
    expect(barrier.isTainted(0, 0)).toBe(false);
  });

  it('remembers the classification of a worker for its calls', () => {
    const barrier = new CrashBarrier(on);
    const worker = { attached: false };
    expect(barrier.crashOf(worker)).toBeUndefined();
    barrier.classify(worker, exit({ signal: 'SIGABRT' }));
    expect(barrier.crashOf(worker)).toMatchObject({ reason: 'signal', signal: 'SIGABRT' });
  });
});

describe('retryAllowed', () => {
  const on: CrashBarrierOptions = { ...CRASH_BARRIER_DEFAULTS, enabled: true, maxRetries: 1 };
  const call = { idempotent: true, retries: 0, chunks: 0, deadlineAt: Infinity };
  const crashed = new WorkerError('gone', 'worker_crashed');

  it('retries an idempotent call whose worker crashed or hung', () => {
    expect(retryAllowed(on, call, crashed, 0)).toBe(true);
    expect(retryAllowed(on, call, new WorkerError('hung', 'worker_hung'), 0)).toBe(true);
  });

  it('not when the barrier is off or retry is never', () => {
    expect(retryAllowed({ ...on, enabled: false }, call, crashed, 0)).toBe(false);
    expect(retryAllowed({ ...on, retry: 'never' }, call, crashed, 0)).toBe(false);
  });

  it('not for calls not marked idempotent, out of retries, past their deadline, or that streamed', () => {
    expect(retryAllowed(on, { ...call, idempotent: false }, crashed, 0)).toBe(false);
    expect(retryAllowed(on, { ...call, retries: 1 }, crashed, 0)).toBe(false);
    expect(retryAllowed(on, { ...call, deadlineAt: 100 }, crashed, 100)).toBe(false);
    expect(retryAllowed(on, { ...call, chunks: 1 }, crashed, 0)).toBe(false);
  });

  it('not for answers: Python errors, timeouts, other worker errors', () => {
    expect(retryAllowed(on, call, new PythonError('boom', { exceptionType: 'ValueError', pythonTraceback: '' }), 0)).toBe(false);
    expect(retryAllowed(on, call, new TimeoutError('late', 'call_timeout', 10), 0)).toBe(false);
    expect(retryAllowed(on, call, new WorkerError('no', 'protocol_error'), 0)).toBe(false);
    expect(retryAllowed(on, call, new Error('plain'), 0)).toBe(false);
  });
});

describe('withCrashInfo', () => {
  it('adds the classification to a crash error, keeping code and details', () => {
    const error = new WorkerError('gone', 'worker_crashed', { workerId: 'w-1', signal: 'SIGKILL', exitCode: null });
    const annotated = withCrashInfo(error, { reason: 'oom', signal: 'SIGKILL', exitCode: null });
    expect(annotated).toBeInstanceOf(WorkerError);
    expect(annotated).toMatchObject({ code: 'worker_crashed', workerId: 'w-1', details: { workerId: 'w-1', crash: { reason: 'oom' } } });
  });

  it('leaves other errors alone', () => {
    const error = new TimeoutError('late', 'call_timeout', 10);
    expect(withCrashInfo(error, { reason: 'signal', signal: 'SIGSEGV', exitCode: null })).toBe(error);
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
