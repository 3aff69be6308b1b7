// The observability guide's examples, run through `snakepit run` (guides/observability.md).
import { describe, expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';

describe('observability examples', () => {
  it('the slow-call logger reports only the slow call, with its correlation id', async () => {
    const r = await runExample('examples/observability-slow-calls.ts');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.match(/^slow call/gm)).toHaveLength(1);
    expect(r.stdout).toMatch(/^slow call sleep ok in \d+ ms \[pool \w+, correlation order-1234\]$/m);
  });

  it('the queue-depth alert fires once the queue is deep enough', async () => {
    const r = await runExample('examples/observability-queue-alert.ts');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^ALERT pool \w+: 3 calls waiting for a worker$/m);
    expect(r.stdout).toMatch(/^alerted: true$/m);
  });

  it('the Prometheus endpoint serves call counts by tool and exceptions by code', async () => {
    const r = await runExample('examples/observability-prometheus.ts');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^snakepit_call_duration_seconds_count\{pool="\w+",tool="add",outcome="ok"\} 5$/m);
    expect(r.stdout).toMatch(/^snakepit_call_exceptions_total\{pool="\w+",tool="raise_error",code="python_error"\} 1$/m);
    expect(r.stdout).toMatch(/^snakepit_pool_queue_depth\{pool="\w+"\} 0$/m);
  });

  it('examples/observability.ts with examples/observability.config.ts: handlers, Python events, control and streams, spans and app events, error events, correlation ids, log sink', async () => {
    const r = await runExample('examples/observability.ts', { config: 'examples/observability.config.ts' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^catalogued events: \d+$/m);
    expect(r.stdout).toMatch(/^python saw correlation id req-42$/m);
    expect(r.stdout).toMatch(/^snakepit\.python\.span\.stop \{"span":"load_weights"\}$/m);
    expect(r.stdout).toMatch(/^snakepit\.python\.tool\.execution\.stop \{"model":"bert"\}$/m);
    expect(r.stdout).toMatch(/^snakepit\.python\.custom \{"items":3,"stage":"post"\}$/m);
    expect(r.stdout).toMatch(/^python log line: warn .*low confidence for x=1 req-43$/m);
    expect(r.stdout).toMatch(/^stream default\/default-1: enabled false, \d+ events received$/m);
    expect(r.stdout).toMatch(/^myapp\.report\.stop \{"rows":2,"spanId":"\w+"\}$/m);
    expect(r.stdout).toMatch(/^myapp\.cache\.miss \{"count":1,"key":"report:2024"\}$/m);
    expect(r.stdout).toMatch(/^report rows: 2$/m);
    expect(r.stdout).toMatch(/^snakepit\.error\.shape_mismatch \{"tool":"multiply","code":"shape_mismatch","dimension":0,"operation":"matmul"\}$/m);
    expect(r.stdout).toMatch(/^call failed: shape_mismatch$/m);
    expect(r.stdout).toMatch(/^(no NVIDIA GPU to sample|sampling GPUs)$/m);
    expect(r.stdout).toMatch(/^tracing enabled: true$/m);
    expect(r.stdout).toMatch(/^lifecycle events seen: true$/m);
    expect(r.stdout).toMatch(/^status snapshots seen: true$/m);
  });
});
