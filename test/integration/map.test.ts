// sp.map / sp.mapIterable with real workers (both transports): results in input order, chunks as pool
// calls, settle vs fail-fast with per-input typed errors, abort mid-map, a worker crash mid-map,
// sessions, per-chunk timeouts, progress as results stream back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { AbortError, PythonValueError, ValidationError, type MapProgress, type Snakepit } from '../../src/index.js';
import { startPool, TRANSPORT, waitForFullPool } from '../helpers/pool.js';
import { recordTelemetry } from '../helpers/telemetry.js';

const MAP = { adapter: 'map_adapter.MapAdapter' };
const xs = (n: number, extra: Record<string, unknown> = {}) => Array.from({ length: n }, (_, x) => ({ x, ...extra }));

describe(`map (${TRANSPORT})`, () => {
  let sp: Snakepit | undefined;
  afterEach(async () => {
    await sp?.stop();
    sp = undefined;
  });

  it('resolves with every result in input order, each chunk one call, spread over the workers', async () => {
    ({ sp } = await startPool({ ...MAP, poolSize: 2 }));
    const squares = await sp.map<number>('square', xs(2_000));
    expect(squares).toEqual(xs(2_000).map(({ x }) => x * x));
    const before = sp.stats().requests;
    const where = await sp.map<{ x: number; pid: number }>('where', xs(40), { chunkSize: 4 });
    expect(where.map((w) => w.x)).toEqual(xs(40).map(({ x }) => x));
    expect(sp.stats().requests - before).toBe(10);
    expect(new Set(where.map((w) => w.pid)).size).toBe(2);
    await expect(sp.map('square', [])).resolves.toEqual([]);
  });

  it("settle mode: a PromiseSettledResult per input, each failure typed as a call's would be", async () => {
    ({ sp } = await startPool(MAP));
    const inputs = [...xs(4, { bad: [1] }), { y: 1 }];
    const out = await sp.map<number>('square_unless', inputs, { mode: 'settle', chunkSize: 2 });
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected']);
    expect(out[0]).toEqual({ status: 'fulfilled', value: 0 });
    const failed = (out[1] as PromiseRejectedResult).reason;
    expect(failed).toBeInstanceOf(PythonValueError);
    expect(failed).toMatchObject({ code: 'python_error', category: 'python_error', exceptionType: 'ValueError', details: { tool: 'square_unless' } });
    expect((out[4] as PromiseRejectedResult).reason).toMatchObject({ code: 'invalid_args' });
  });

  it('fail mode: rejects with the first failure (details.index) and runs no input after it', async () => {
    ({ sp } = await startPool(MAP));
    const error = await sp.map('square_unless', xs(100, { bad: [15, 40] }), { chunkSize: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PythonValueError);
    expect(error).toMatchObject({ code: 'python_error', details: { index: 15 } });
    expect(await sp.execute('seen_inputs')).toEqual(xs(16).map(({ x }) => x));
  });

  it('an abort mid-map stops sending chunks, cancels the running one and keeps the worker', async () => {
    ({ sp } = await startPool(MAP));
    const [before] = sp.listWorkers();
    const controller = new AbortController();
    const mapped = sp.map('slow', xs(200, { ms: 30 }), { chunkSize: 20, signal: controller.signal, onProgress: () => controller.abort(new Error('enough')) });
    await expect(mapped).rejects.toBeInstanceOf(AbortError);
    await expect(mapped).rejects.toMatchObject({ code: 'aborted' });
    // Python stopped before its next input; the same worker serves the next call.
    const seen = (await sp.execute('seen_inputs')) as number[];
    expect(seen.length).toBeLessThan(20);
    expect(sp.listWorkers()[0]?.pid).toBe(before?.pid);
    expect(sp.stats().queued).toBe(0);
  });

  it("a worker crash mid-map: settle keeps the results that came back and fails the rest of that chunk with the crash", async () => {
    ({ sp } = await startPool(MAP));
    const out = await sp.map('crash_at', xs(30, { at: 13, ms: 5 }), { mode: 'settle', chunkSize: 10 });
    const status = out.map((o) => o.status);
    // Inputs 10-12 came back before the crash (each took longer than a flush interval).
    expect(status.slice(0, 13).every((s) => s === 'fulfilled')).toBe(true);
    expect(status.slice(13, 20).every((s) => s === 'rejected')).toBe(true);
    expect((out[13] as PromiseRejectedResult).reason).toMatchObject({ code: 'worker_crashed', category: 'worker' });
    // The map goes on with the replacement worker.
    expect(out.slice(20)).toEqual(xs(10).map(({ x }) => ({ status: 'fulfilled', value: x + 20 })));
  });

  it('a worker crash mid-map in fail mode rejects with the crash at the first input without a result', async () => {
    ({ sp } = await startPool(MAP));
    await expect(sp.map('crash_at', xs(30, { at: 13, ms: 5 }), { chunkSize: 10 })).rejects.toMatchObject({ code: 'worker_crashed', details: { index: 13 } });
    await waitForFullPool(sp, 1);
  });

  it('an idempotent map whose worker crashes sends only the inputs still without a result again', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sp-map-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    ({ sp } = await startPool(MAP, { crashBarrier: { enabled: true, taintMs: 0 } }));
    const once = path.join(dir, 'crashed');
    const out = await sp.map('crash_at', xs(20, { at: 13, ms: 5, once }), { chunkSize: 10, idempotent: true });
    expect(out).toEqual(xs(20).map(({ x }) => x));
    expect(sp.stats().retries).toBe(1);
    // The replacement worker ran 13 (the input the crash took) onwards, nothing before it.
    expect(await sp.execute('seen_inputs')).toEqual(xs(7).map(({ x }) => x + 13));
  });

  it('thread profile: the chunks of one worker run side by side, results still in input order', async () => {
    ({ sp } = await startPool({ ...MAP, workerProfile: 'thread', threadsPerWorker: 4, requireThreadSafeAdapter: false }));
    const out = await sp.map('overlapping', xs(8, { ms: 100 }), { chunkSize: 2 });
    expect(out).toEqual(xs(8).map(({ x }) => x));
    // The window is the worker's four slots: its four chunks ran at once, one input each at a time.
    const peak = (await sp.execute('peak_active')) as number;
    expect(peak).toBeGreaterThanOrEqual(2);
    expect(peak).toBeLessThanOrEqual(4);
  });

  it("a session's map runs on the session's worker, with its session id", async () => {
    ({ sp } = await startPool({ ...MAP, poolSize: 2 }));
    const session = sp.session('map-user');
    const { pid } = (await session.execute('where')) as { pid: number };
    const out = await session.map<{ pid: number; session: string }>('where', xs(50), { chunkSize: 5 });
    expect(new Set(out.map((o) => o.pid))).toEqual(new Set([pid]));
    expect(out.every((o) => o.session === 'map-user')).toBe(true);
  });

  it('a chunk past its timeoutMs fails with call_timeout (each input of it, in settle mode)', async () => {
    ({ sp } = await startPool(MAP));
    await expect(sp.map('slow', xs(10, { ms: 100 }), { chunkSize: 10, timeoutMs: 250 })).rejects.toMatchObject({ code: 'call_timeout' });
    const out = await sp.map('slow', xs(4, { ms: 400 }), { chunkSize: 2, timeoutMs: 600, mode: 'settle' });
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((out[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'call_timeout' });
  });

  it("a chunk's results stream back as its inputs finish: progress while the chunk still runs", async () => {
    ({ sp } = await startPool(MAP));
    const seen: { progress: MapProgress; busy: number }[] = [];
    await sp.map('slow', xs(5, { ms: 30 }), { chunkSize: 5, onProgress: (progress) => seen.push({ progress, busy: sp!.stats().busy }) });
    expect(seen.map((s) => s.progress.done)).toEqual([1, 2, 3, 4, 5]);
    expect(seen[0]).toEqual({ progress: { done: 1, failed: 0, total: 5 }, busy: 1 });
  });

  it('snakepit.map.* events; the chunks are calls sharing the map\'s correlation id; a throwing onProgress fails the map', async () => {
    ({ sp } = await startPool(MAP));
    const rec = recordTelemetry(['snakepit.map.start', 'snakepit.map.progress', 'snakepit.map.stop', 'snakepit.call.stop']);
    try {
      await sp.map('square', xs(6), { chunkSize: 3, correlationId: 'map-1' });
      const names = rec.names();
      expect(names[0]).toBe('snakepit.map.start');
      expect(names.at(-1)).toBe('snakepit.map.stop');
      expect(names.filter((n) => n === 'snakepit.call.stop')).toHaveLength(2);
      expect(rec.seen.every((e) => e.metadata.correlationId === 'map-1')).toBe(true);
      expect(rec.seen.at(-1)).toMatchObject({ measurements: { done: 6, failed: 0, chunks: 2 }, metadata: { ok: true, tool: 'square', mode: 'fail' } });
      expect(rec.seen.filter((e) => e.event === 'snakepit.map.progress').at(-1)?.measurements).toEqual({ done: 6, failed: 0, total: 6 });
    } finally {
      rec.stop();
    }
    const mine = new Error('mine');
    await expect(sp.map('square', xs(6), { chunkSize: 3, onProgress: () => { throw mine; } })).rejects.toBe(mine);
  });

  it('mapIterable yields in input order; leaving the loop cancels the rest', async () => {
    ({ sp } = await startPool({ ...MAP, poolSize: 2 }));
    const got: number[] = [];
    for await (const square of sp.mapIterable<number>('square', xs(1_000))) got.push(square);
    expect(got).toEqual(xs(1_000).map(({ x }) => x * x));
    const early: unknown[] = [];
    const iterator = sp.mapIterable('slow', xs(100, { ms: 10 }), { chunkSize: 10 });
    for await (const x of iterator) {
      early.push(x);
      if (early.length === 3) break;
    }
    expect(early).toEqual([0, 1, 2]);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    await sp.pool().onIdle();
    expect(sp.stats().queued).toBe(0);
    const statuses: string[] = [];
    for await (const outcome of sp.mapIterable('square_unless', xs(3, { bad: [1] }), { mode: 'settle' })) statuses.push(outcome.status);
    expect(statuses).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('mapIterable in fail mode yields the results before the failure, then throws it', async () => {
    ({ sp } = await startPool(MAP));
    const got: unknown[] = [];
    const loop = (async () => {
      for await (const x of sp!.mapIterable('square_unless', xs(10, { bad: [4] }), { chunkSize: 2 })) got.push(x);
    })();
    await expect(loop).rejects.toMatchObject({ code: 'python_error', details: { index: 4 } });
    expect(got).toEqual([0, 1, 4, 9]);
  });

  it('with validateArgs, inputs that do not fit the tool are refused on the host (settled, or the map rejects)', async () => {
    ({ sp } = await startPool({ ...MAP, validateArgs: true }));
    const inputs = [{ x: 1 }, { x: 'two' }, { x: 3 }, { y: 4 }];
    const out = await sp.map('square', inputs, { mode: 'settle', chunkSize: 1 });
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((out[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'invalid_args', category: 'validation' });
    expect(sp.stats().requests).toBe(2);
    await expect(sp.map('square', inputs)).rejects.toMatchObject({ code: 'invalid_args', details: { index: 1 } });
    expect(sp.stats().requests).toBe(2);
  });

  it('a pool stopped during a map rejects it with pool_stopped, in settle mode too', async () => {
    ({ sp } = await startPool(MAP));
    const mapped = sp.map('slow', xs(100, { ms: 20 }), { chunkSize: 5, mode: 'settle', onProgress: () => void sp!.stop({ timeoutMs: 5_000 }) });
    await expect(mapped).rejects.toMatchObject({ code: 'pool_stopped' });
  });

  it('bad options, bad inputs and an unknown tool reject before anything is sent', async () => {
    ({ sp } = await startPool(MAP));
    await expect(sp.map('square', xs(2), { chunkSize: 0 })).rejects.toMatchObject({ code: 'invalid_argument', details: { issues: [{ path: 'chunkSize' }] } });
    await expect(sp.map('square', xs(2), { mode: 'all' as 'fail' })).rejects.toBeInstanceOf(ValidationError);
    await expect(sp.map('square', [{ x: 1 }, 2 as unknown as { x: number }])).rejects.toMatchObject({ code: 'invalid_argument', details: { field: 'inputs[1]' } });
    await expect(sp.map('nope', xs(2), { mode: 'settle' })).rejects.toMatchObject({ code: 'unknown_tool' });
    expect(sp.stats().requests).toBe(0);
  });
});
