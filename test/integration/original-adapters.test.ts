// Adapters written for the original Snakepit (test/fixtures/python/original_style/) run unchanged: an
// execute_tool router, private chunk objects, the 3-argument span, logging_config imports, positional
// @tool arguments, numpy/psutil tools, per-session counters, binary payloads, host tools. Runs per transport.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { PythonError, telemetry, ValidationError, type ChunkInfo, type Snakepit, type LogRecord } from '../../src/index.js';
import { startPool } from '../helpers/pool.js';
import { recordTelemetry } from '../helpers/telemetry.js';

const SHOWCASE = 'original_style.showcase_adapter.ShowcaseAdapter';
const TEMPLATE = 'original_style.template_adapter.TemplateAdapter';

describe('adapters written for the original', () => {
  let sp: Snakepit | undefined;
  let logs: LogRecord[] = [];
  afterEach(async () => {
    await sp?.stop();
    sp = undefined;
  });

  const start = async (adapter: string) => {
    ({ sp, logs } = await startPool({ adapter, logLevel: 'info' }));
    return sp;
  };

  it('routes names that are not @tool methods to execute_tool, and @tool methods directly', async () => {
    const s = await start(SHOWCASE);
    const [worker] = s.listWorkers();
    expect(s.pool().tools().map((t) => t.name)).toEqual(['adapter_info', 'count_up', 'get_stats', 'process_text']);
    await expect(s.execute('add', { a: 10, b: 25 })).resolves.toBe(35);
    await expect(s.execute('echo', { message: 'hi' })).resolves.toEqual({ echoed: { message: 'hi' }, session_id: null });
    await expect(s.execute('process_text', { text: 'abc', operation: 'reverse' })).resolves.toMatchObject({ result: 'cba', success: true });
    const info = await s.execute<{ handler_tools: string[] }>('adapter_info');
    expect(info.handler_tools).toContain('increment_counter');
    // logging_config.get_logger(...) lines reach the host log, from the worker.
    expect(logs.some((r) => r.message.includes('echo called with') && r.context.workerId === worker!.id)).toBe(true);
  });

  it("a name nobody routes fails in Python with unknown_tool listing the adapter's tools (not refused by the host)", async () => {
    const s = await start(SHOWCASE);
    const error = await s.execute('no_such_tool').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).not.toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'unknown_tool', exceptionType: 'UnknownToolError', details: { available: ['adapter_info', 'count_up', 'get_stats', 'process_text'] } });
  });

  it('streams through execute_tool: private chunk objects arrive as their data, with is_final and metadata', async () => {
    const s = await start(SHOWCASE);
    const seen: [unknown, ChunkInfo][] = [];
    await s.executeStream('stream_data', { count: 3 }, (chunk, info) => seen.push([chunk, info]));
    expect(seen).toEqual([
      [{ index: 1, total: 3, message: 'Chunk 1/3' }, { final: false, metadata: { chunk: 1 } }],
      [{ index: 2, total: 3, message: 'Chunk 2/3' }, { final: false, metadata: { chunk: 2 } }],
      [{ index: 3, total: 3, message: 'Chunk 3/3' }, { final: true, metadata: { chunk: 3 } }],
    ]);
    const plain: unknown[] = [];
    for await (const item of s.stream('stream_plain', { count: 2 })) plain.push(item);
    expect(plain).toEqual([{ n: 0 }, { n: 1 }]);
    const counted: unknown[] = [];
    await s.executeStream('count_up', { count: 2 }, (chunk) => counted.push(chunk)); // @tool("...", True)
    expect(counted).toEqual([1, 2]);
  });

  it('keeps per-session counters apart, and serves binary payloads and numpy/psutil tools', async () => {
    const s = await start(SHOWCASE);
    const a = s.session('session-a');
    const b = s.session('session-b');
    await a.execute('increment_counter');
    await a.execute('increment_counter');
    await b.execute('increment_counter');
    await expect(a.execute('get_counter')).resolves.toEqual({ value: 2 });
    await expect(b.execute('get_counter')).resolves.toEqual({ value: 1 });
    const blob = Buffer.from([1, 2, 3, 250]);
    await expect(s.execute('process_binary', { data: blob })).resolves.toEqual({ checksum: createHash('md5').update(blob).digest('hex'), size: 4 });
    const reversed = await s.execute<Uint8Array>('process_binary', { data: blob, operation: 'reverse' });
    expect(Buffer.from(reversed)).toEqual(Buffer.from([250, 3, 2, 1]));
    await expect(s.execute('create_tensor', { shape: [2, 3] })).resolves.toEqual({ shape: [2, 3], sum: 15, size_bytes: 48 });
    const stats = await a.execute<{ adapter: Record<string, unknown>; system: Record<string, number> }>('get_stats');
    expect(stats.adapter).toEqual({ name: 'ShowcaseAdapter', registered_tools: 4, session_id: 'session-a' });
    expect(stats.system.memory_usage_mb).toBeGreaterThan(0);
  });

  it('calls host tools the original way: elixir_tools, call_elixir_tool, ValueError for a missing one', async () => {
    const s = await start(SHOWCASE);
    const session = s.session('host-1').registerTool('double', ({ x }) => (x as number) * 2, { exposedToPython: true, parameters: [{ name: 'x', type: 'integer', required: true }] });
    await expect(session.execute('call_elixir_demo', { tool_name: 'double', x: 21 })).resolves.toEqual({ tool: 'double', result: 42, source: 'elixir' });
    await expect(session.execute('call_elixir_demo', { tool_name: 'missing' })).resolves.toEqual({
      error: 'Elixir tool missing not found',
      available_tools: ['double'],
      exception: 'HostToolNotFoundError',
    });
  });

  it("the 3-argument span and emit reach the bus with the call's correlation id; the bridge's call events when listened to", async () => {
    const s = await start(SHOWCASE);
    const rec = recordTelemetry(['snakepit.python.tool.execution.start', 'snakepit.python.tool.execution.stop', 'snakepit.python.call.start', 'snakepit.python.call.stop']);
    onTestFinished(() => rec.stop());
    await telemetry.control.settled(); // the worker now sends its own call events (a handler listens)
    const out = await s.execute<{ correlation_id: string; enabled: boolean }>('telemetry_demo', { operation: 'x' }, { correlationId: 'corr-orig-1' });
    expect(out).toMatchObject({ correlation_id: 'corr-orig-1', enabled: true });
    await rec.until((seen) => seen.some((e) => e.event === 'snakepit.python.call.stop'), 'python.call.stop');
    expect(rec.names()).toEqual([
      'snakepit.python.call.start',
      'snakepit.python.tool.execution.start', // telemetry.emit(...)
      'snakepit.python.tool.execution.start', // telemetry.span(op, meta, corr)
      'snakepit.python.tool.execution.stop',
      'snakepit.python.call.stop',
    ]);
    const spanStop = rec.seen[3]!;
    expect(spanStop.measurements.durationMs).toBeGreaterThan(0); // the original's `duration` (ns), named the catalogue's way
    expect(spanStop.metadata).toMatchObject({ tool: 'telemetry_demo', operation: 'x', correlationId: 'corr-orig-1' });
    const callStop = rec.seen[4]!;
    expect(callStop.measurements).toMatchObject({ count: 1, durationMs: expect.any(Number) });
    expect(callStop.metadata).toMatchObject({ command: 'telemetry_demo', correlationId: 'corr-orig-1' });
  });

  it("the original's template: a plain class routing names in execute_tool, async initialize", async () => {
    const s = await start(TEMPLATE);
    expect(s.pool().tools()).toEqual([]);
    await expect(s.session('t-1').execute('get_info')).resolves.toEqual({ adapter: 'TemplateAdapter', initialized: true, session_id: 't-1' });
    await expect(s.execute('multiply', { a: 6, b: 7 })).resolves.toEqual({ result: 42 });
    await expect(s.execute('anything_else')).rejects.toMatchObject({ code: 'python_error', exceptionType: 'NotImplementedError' });
  });
});
