// Per-tool timeouts from config (`toolTimeouts`, the original's `command_timeout`): over the pool's defaults, under a call's own timeoutMs, for streams too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimeoutError, type Snakepit } from '../../src/index.js';
import type { LogRecord } from '../../src/logger.js';
import { startPool } from '../helpers/pool.js';

describe('toolTimeouts', () => {
  let sp: Snakepit;
  let logs: LogRecord[];
  beforeAll(async () => {
    ({ sp, logs } = await startPool({
      poolSize: 2,
      adapter: 'slow_adapter.SlowAdapter',
      toolTimeouts: { slow: 300, slow_stream: 400, slwo: 100 },
      // A cancelled sleep cannot stop early: the grace covers it, so the worker serves on.
      cancelGraceMs: 5_000,
    }));
  });
  afterAll(() => sp?.stop());

  it("a tool's timeout replaces the pool's default", async () => {
    const error = await sp.execute('slow', { ms: 1_500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'call_timeout', details: { tool: 'slow', timeoutMs: 300 } });
  });

  it("a call's own timeoutMs wins over its tool's", async () => {
    await sp.pool().onIdle(); // the timed-out sleep above holds its worker until it ends
    await expect(sp.execute('slow', { ms: 600 }, { timeoutMs: 20_000 })).resolves.toMatchObject({ slept_ms: 600 });
    await expect(sp.execute('slow', { ms: 1_500 }, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'call_timeout', details: { timeoutMs: 200 } });
  });

  it('applies to streams, through stream() and executeStream()', async () => {
    await sp.pool().onIdle();
    const chunks: unknown[] = [];
    const consume = async () => {
      for await (const chunk of sp.stream('slow_stream', { count: 100, delay_ms: 100 })) chunks.push(chunk);
    };
    await expect(consume()).rejects.toMatchObject({ code: 'call_timeout', details: { tool: 'slow_stream', timeoutMs: 400 } });
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.length).toBeLessThan(100);
    await expect(sp.executeStream('slow_stream', { count: 100, delay_ms: 100 }, () => {})).rejects.toMatchObject({ code: 'call_timeout', details: { timeoutMs: 400 } });
  });

  it('warns once at start about a tool the pool does not have (a misspelt name would keep the default)', () => {
    const warnings = logs.filter((r) => r.level === 'warn' && r.context.unknownTools !== undefined);
    expect(warnings.map((r) => r.context)).toEqual([expect.objectContaining({ pool: 'default', unknownTools: ['slwo'] })]);
  });
});
