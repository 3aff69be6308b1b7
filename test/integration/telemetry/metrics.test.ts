// prom-client metrics fed by the bus (and served by the control endpoint's /metrics), host-side spans and
// application events around real calls, and OpenTelemetry call spans with traceparent carried to Python.
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { telemetry, type Snakepit } from '../../../src/index.js';
import { startPool } from '../../helpers/pool.js';
import { getText } from '../../../src/control/discover.js';

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

  it("exposes what the original measures, with Prometheus names and units, in telemetry.metrics() and the control endpoint's /metrics", async () => {
    ({ sp } = await startPool({ heartbeat: { pingIntervalMs: 50 } }));
    const m = telemetry.metrics();
    const session = sp.session('metrics-s1');
    await session.execute('ping');
    await expect(sp.execute('raise_error')).rejects.toMatchObject({ code: 'python_error' });
    const pongs = new Promise<void>((resolve) => telemetry.attach('metrics-pong', ['snakepit.heartbeat.pong_received'], () => resolve()));
    await pongs;
    telemetry.detach('metrics-pong');
    const own = await m.text();
    const served = await getText(sp.controlEndpoint!.socketPath, '/metrics');
    for (const text of [own, served]) {
      expect(text).toMatch(/^snakepit_heartbeat_pings_total\{pool="default"\} [1-9]/m);
      expect(text).toMatch(/^snakepit_heartbeat_latency_seconds_count\{pool="default"\} [1-9]/m);
      expect(text).toMatch(/^snakepit_errors_total\{pool="default",category="python_error"\} [1-9]/m);
      expect(text).toMatch(/^snakepit_sessions [1-9]/m);
      expect(text).toMatch(/^snakepit_sessions_created_total [1-9]/m);
      expect(text).toMatch(/^snakepit_session_affinity_total\{pool="default",event="assigned"\} [1-9]/m);
      expect(text).toMatch(/^# TYPE snakepit_circuit_breaker_state gauge$/m);
      expect(text).toMatch(/^# TYPE snakepit_retry_backoff_seconds summary$/m);
      expect(text).toMatch(/^# TYPE snakepit_gpu_memory_used_bytes gauge$/m);
      expect(text).toMatch(/^# TYPE snakepit_hardware_detect_duration_seconds summary$/m);
      expect(text).toMatch(/^# TYPE snakepit_worker_recycles_total counter$/m);
      const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
      expect(new Set(types).size).toBe(types.length);
    }
  });

  it('a host span around real calls: start then stop with its duration, exception with the code of a failed call', async () => {
    ({ sp } = await startPool());
    const seen: [string, Record<string, number>, Record<string, unknown>][] = [];
    telemetry.attach('app-span', ['myapp.batch.start', 'myapp.batch.stop', 'myapp.batch.exception'], (event, m, md) => seen.push([event, m, md]));
    try {
      const results = await telemetry.span('myapp.batch', () => Promise.all([sp!.execute('ping'), sp!.execute('ping')]), { items: 2 });
      expect(results).toHaveLength(2);
      await expect(telemetry.span('myapp.batch', () => sp!.execute('raise_error'), { items: 1 })).rejects.toMatchObject({ code: 'python_error' });
    } finally {
      telemetry.detach('app-span');
    }
    expect(seen.map(([event]) => event)).toEqual(['myapp.batch.start', 'myapp.batch.stop', 'myapp.batch.start', 'myapp.batch.exception']);
    expect(seen[1]![1].durationMs).toBeGreaterThan(0);
    expect(seen[1]![2]).toMatchObject({ items: 2 });
    expect(seen[3]![2]).toMatchObject({ items: 1, code: 'python_error', kind: expect.stringMatching(/^Python/) });
  });

  it("an application's own event reaches its handler next to the catalogue's", async () => {
    ({ sp } = await startPool());
    const seen: string[] = [];
    telemetry.attach('app-events', ['myapp.operation.stop', 'snakepit.call.stop'], (event) => seen.push(event));
    try {
      await sp.execute('ping');
      telemetry.emit('myapp.operation.stop', { durationMs: 1 }, { step: 'after-ping' });
    } finally {
      telemetry.detach('app-events');
    }
    expect(seen).toEqual(['snakepit.call.stop', 'myapp.operation.stop']);
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
