// Pipelining with work stealing, under the default config: a call waiting inside a worker (sent, not started)
// keeps every guarantee it has in the host queue — its timeout, abort and queue timeout remove it without running
// it — is taken back when another worker frees first, is not lost when its worker dies or is recycled (only the
// started call fails), and a long call never holds the short ones behind it.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { PoolError, type Snakepit } from '../../src/index.js';
import { startPool, waitForFullPool } from '../helpers/pool.js';

interface WorkerFacts {
  pid: number;
  worker_id: string;
}

/** Resolves once `ms` have passed: a long call's length, never used to wait for an outcome. */
const longCall = (sp: Snakepit, ms: number) => sp.execute('sleep', { ms }, { timeoutMs: 60_000 });

/** Host tools the showcase's `process_with_validation` calls: counts its runs (a call that ran calls them). */
function countRuns(sp: Snakepit): { runs: () => number } {
  let runs = 0;
  sp.registerTool('validate_schema', async () => {
    runs++;
    return { valid: true };
  }, { exposedToPython: true });
  sp.registerTool('store_result', async () => ({ stored: true }), { exposedToPython: true });
  return { runs: () => runs };
}

describe('pipelining (default config)', () => {
  let sp: Snakepit | undefined;
  afterEach(async () => {
    await sp?.stop();
    sp = undefined;
  });

  it('a call waiting behind a long call is taken back by the worker that frees first', async () => {
    // A long stall bound: the call must move because a worker freed, not because the long call ran past the bound
    // (the default 5 ms can pass between these synchronous calls on a loaded machine, and then the third call
    // is never sent behind the long one).
    ({ sp } = await startPool({ poolSize: 2, pipelineStallMs: 60_000 }));
    const [first, second] = sp.listWorkers();
    const long = longCall(sp, 3_000); // on the first worker
    const short = sp.execute('sleep', { ms: 200 }); // the second worker, free
    const moved = sp.execute<WorkerFacts>('get_worker_info'); // both busy: waits inside the first, behind the long call
    expect(sp.listWorkers().map((w) => w.inflight)).toEqual([2, 1]);
    const facts = await moved;
    expect(facts.worker_id).toBe(second!.id); // ran where a slot freed, not behind the long call
    await short;
    expect(sp.listWorkers().find((w) => w.id === first!.id)?.inflight).toBe(1); // the long call still runs
    expect(sp.stats()).toMatchObject({ retries: 0, errors: 0 });
    await long;
  });

  it.each([
    ['its timeout', () => ({ timeoutMs: 300 }), {}, 'call_timeout'],
    ['its abort', () => ({ signal: AbortSignal.timeout(300) }), {}, 'aborted'],
    ['its queue timeout', () => ({}), { poolQueueTimeoutMs: 300 }, 'queue_timeout'],
  ])('a call waiting inside a worker leaves on %s without running, and the worker lives on', async (_label, options, poolOptions, code) => {
    ({ sp } = await startPool({ poolSize: 1, ...poolOptions }));
    const callOptions = options();
    const { runs } = countRuns(sp);
    const [worker] = sp.listWorkers();
    const long = longCall(sp, 1_500);
    const waiting = sp.execute('process_with_validation', { data: { a: 1 } }, callOptions);
    expect(sp.listWorkers()[0]!.inflight).toBe(2); // it was sent: it waits inside the worker
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toMatchObject({ code });
    if (code === 'aborted') expect(error).toMatchObject({ details: { stage: 'queued' } });
    await long;
    await sp.pool().onIdle();
    expect(runs()).toBe(0); // it never ran
    expect(sp.listWorkers().map((w) => w.id)).toEqual([worker!.id]); // no kill for a cancel of a waiting call
    expect(sp.health('default').crashes).toBe(0);
  });

  it('a worker killed with calls waiting in it fails only the call it ran; the waiting ones run on its replacement', async () => {
    // A long stall bound keeps the calls waiting inside the worker behind the long call until the kill.
    ({ sp } = await startPool({ poolSize: 1, pipelineStallMs: 60_000 }));
    const [victim] = sp.listWorkers();
    const running = longCall(sp, 30_000);
    const waiting = [sp.execute('add', { a: 1, b: 2 }), sp.execute('add', { a: 3, b: 4 })];
    expect(sp.listWorkers()[0]!.inflight).toBe(3);
    const exited = once(sp.pool(), 'worker:exit');
    process.kill(victim!.pid!, 'SIGKILL');
    await exited;
    await expect(running).rejects.toMatchObject({ code: 'worker_crashed' });
    await expect(Promise.all(waiting)).resolves.toMatchObject([{ result: 3 }, { result: 7 }]);
    await waitForFullPool(sp, 1);
    expect(sp.listWorkers()[0]!.id).not.toBe(victim!.id);
    expect(sp.stats()).toMatchObject({ retries: 0 }); // not retries: they never ran
  });

  it('a call that crashes its worker fails alone: the calls that ran before it in the same read keep their answers, the one after it runs on the replacement', async () => {
    // Sent in one turn, the four arrive together and run back to back; each answer must leave before the next call
    // starts (gRPC: the previous call's RPC has ended), and the host must read them before it counts which call ran.
    ({ sp } = await startPool({ poolSize: 1, adapter: 'crash_adapter.CrashAdapter' }));
    const [victim] = sp.listWorkers();
    const before = [sp.execute('pid', {}), sp.execute('pid', {})];
    const crash = sp.execute('crash', { code: 3 });
    const after = sp.execute('pid', {});
    await expect(Promise.all(before)).resolves.toEqual([victim!.pid, victim!.pid]);
    await expect(crash).rejects.toMatchObject({ code: 'worker_crashed' });
    const rerun = await after;
    expect(rerun).not.toBe(victim!.pid); // it never started on the worker that died
    expect(sp.stats()).toMatchObject({ retries: 0 });
  });

  it('recycling a worker hands the calls waiting in it to the others; the call it runs finishes there', async () => {
    // A long stall bound: the waiting call stays in the old worker until the recycle takes it back.
    ({ sp } = await startPool({ poolSize: 1, pipelineStallMs: 60_000 }));
    const [old] = sp.listWorkers();
    const running = sp.execute<WorkerFacts>('get_worker_info').then(async (facts) => {
      await Promise.resolve();
      return facts;
    });
    const long = longCall(sp, 5_000);
    const waiting = sp.execute<WorkerFacts>('get_worker_info'); // behind the long call
    const recycled = sp.recycleWorker('default', old!.id);
    expect((await running).worker_id).toBe(old!.id);
    const facts = await waiting;
    expect(facts.worker_id).not.toBe(old!.id); // moved to the replacement, not run behind the long call
    await expect(long).resolves.toBeDefined(); // the old worker finished what it ran
    await expect(recycled).resolves.toMatchObject({ workerId: old!.id, reason: 'manual' });
    expect(sp.stats()).toMatchObject({ errors: 0 });
  });

  it('stop() fails the calls waiting inside workers with pool_stopped and lets the running one finish', async () => {
    ({ sp } = await startPool({ poolSize: 1 }));
    const running = longCall(sp, 300);
    const waiting = sp.execute('ping');
    const stopping = sp.stop();
    await expect(waiting).rejects.toBeInstanceOf(PoolError);
    await expect(waiting).rejects.toMatchObject({ code: 'pool_stopped' });
    await expect(running).resolves.toBeDefined();
    await stopping;
    sp = undefined;
  });

  it('pipelineDepth 0 keeps waiting calls in the host queue', async () => {
    ({ sp } = await startPool({ poolSize: 1, pipelineDepth: 0 }));
    const long = longCall(sp, 300);
    const queued = sp.execute('ping');
    expect(sp.listWorkers()[0]!.inflight).toBe(1);
    expect(sp.stats().queued).toBe(1);
    await Promise.all([long, queued]);
  });
});

describe('a long call never holds short ones (default config)', () => {
  let sp: Snakepit | undefined;
  afterEach(async () => {
    await sp?.stop();
    sp = undefined;
  });

  it('calls sent behind a call that runs long are taken back and run on the other worker meanwhile', async () => {
    ({ sp } = await startPool({ poolSize: 2 }));
    const long = longCall(sp, 3_000);
    // Many short calls at once: some go behind the long call before it has run long enough to count as long.
    const shorts = Array.from({ length: 20 }, () => sp!.execute<WorkerFacts>('get_worker_info'));
    const facts = await Promise.all(shorts);
    const longWorker = sp.listWorkers().find((w) => w.inflight === 1)!;
    expect(facts.filter((f) => f.worker_id === longWorker.id)).toEqual([]); // none waited for the long call
    expect(sp.listWorkers().find((w) => w.id === longWorker.id)?.inflight).toBe(1); // which still runs
    await long;
  });
});
