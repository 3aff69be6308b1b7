// prom-client metrics fed by the bus, and OpenTelemetry call spans with traceparent carried to Python.
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { telemetry, type Snakepit } from '../../src/index.js';
import { startPool } from '../helpers/pool.js';

/** A tracer provider that records what the API hands it (no SDK needed). */
function fakeProvider() {
  const spans: { name: string; attributes: Record<string, unknown>; ended: boolean; status?: { code: number } }[] = [];
  const tracer = {
    startSpan(name: string, options: { attributes?: Record<string, unknown> }) {
      const record: (typeof spans)[number] = { name, attributes: options.attributes ?? {}, ended: false };
      spans.push(record);
      const span = {
        spanContext: () => ({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }),
        setStatus: (status: { code: number }) => ((record.status = status), span),
        recordException: () => {},
        end: () => void (record.ended = true),
      };
      return span;
    },
  };
  return { spans, provider: { getTracer: () => tracer } };
}

describe('metrics and tracing', () => {
  let sp: Snakepit | undefined;
  afterEach(async () => {
    telemetry.tracing.enable(false);
    await sp?.stop();
    sp = undefined;
  });

  it('exposes queue depth, available workers, call durations by tool, exceptions by code and spawns', async () => {
    const m = telemetry.metrics();
    ({ sp } = await startPool());
    await sp.execute('ping');
    await expect(sp.execute('raise_error')).rejects.toMatchObject({ code: 'python_error' });
    const text = await m.text();
    expect(text).toMatch(/snakepit_pool_queue_depth\{pool="default"\} 0/);
    expect(text).toMatch(/snakepit_pool_available_workers\{pool="default"\} 1/);
    expect(text).toMatch(/snakepit_call_duration_seconds_count\{pool="default",tool="ping",outcome="ok"\} 1/);
    expect(text).toMatch(/snakepit_call_exceptions_total\{pool="default",tool="raise_error",code="python_error"\} 1/);
    expect(text).toMatch(/snakepit_worker_spawns_total\{pool="default",result="ok"\} 1/);
    expect(m.contentType).toContain('text/plain');
  });

  it('one client span per call, ended with an error status on failure, traceparent in Python request metadata', async () => {
    const fake = fakeProvider();
    trace.setGlobalTracerProvider(fake.provider as never);
    telemetry.tracing.enable();
    ({ sp } = await startPool({ adapter: 'echo_adapter.EchoAdapter' }));
    const ctx = (await sp.execute('context', {}, { correlationId: 'c-otel' })) as { metadata: Record<string, unknown> };
    expect(ctx.metadata).toMatchObject({ correlation_id: 'c-otel' });
    expect(ctx.metadata.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    await expect(sp.execute('no_such_tool')).rejects.toMatchObject({ code: 'unknown_tool' });
    expect(fake.spans.map((s) => [s.name, s.ended, s.status?.code])).toEqual([
      ['snakepit.call context', true, undefined],
      ['snakepit.call no_such_tool', true, 2],
    ]);
    expect(fake.spans[0]!.attributes).toMatchObject({ 'snakepit.pool': 'default', 'snakepit.correlation_id': 'c-otel' });
  });
});
