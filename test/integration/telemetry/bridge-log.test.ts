// Category `bridge` on real workers: a host tool's failure is logged with the Python call's
// correlation id, and the category's own level decides what reaches the sink.
import { afterEach, describe, expect, it } from 'vitest';
import { SnakepitError, type LogLevelInput, type Snakepit } from '../../../src/index.js';
import { startPool, type TestInstance } from '../../helpers/pool.js';

async function start(logLevel: 'error' | 'debug', bridge: LogLevelInput): Promise<TestInstance> {
  const { sp, logs } = await startPool({ adapter: 'host_adapter.HostAdapter' }, { logLevel }, { logCategories: { bridge } });
  sp.registerTool('flaky', () => {
    throw new SnakepitError('backend refused', { code: 'device_not_available', category: 'pool', details: { token: 't0k3n' } });
  }, { exposedToPython: true });
  return { sp, logs };
}

describe('bridge logs', () => {
  let sp: Snakepit | undefined;
  afterEach(async () => {
    await sp?.stop();
    sp = undefined;
  });

  it("logs a failing host tool under bridge with the call's correlation id, at bridge's own level", async () => {
    const started = await start('error', 'debug');
    sp = started.sp;
    await expect(sp.execute('call_host', { name: 'flaky' }, { correlationId: 'corr-bridge-1' })).rejects.toMatchObject({ details: { code: 'device_not_available' } });
    await expect(sp.execute('call_host', { name: 'missing' }, { correlationId: 'corr-bridge-2' })).rejects.toMatchObject({ details: { code: 'unknown_host_tool' } });
    const bridge = started.logs.filter((r) => r.context.category === 'bridge');
    expect(bridge.map((r) => [r.level, r.context.tool])).toEqual([
      ['debug', 'flaky'], // registered
      ['warn', 'flaky'],
      ['warn', 'missing'],
    ]);
    expect(bridge[1]!.context).toMatchObject({ correlationId: 'corr-bridge-1', code: 'device_not_available', pool: 'default', details: { token: '[REDACTED]' } });
    expect(bridge[2]!.context).toMatchObject({ correlationId: 'corr-bridge-2', code: 'unknown_host_tool' });
    expect(String(bridge[1]!.context.workerId)).toMatch(/^default-/);
    // Other categories stay at the instance's level (error): nothing below it from them.
    expect(started.logs.filter((r) => r.context.category !== 'bridge' && r.level !== 'error')).toEqual([]);
  });

  it('says nothing under bridge when its level is none, while other categories log at debug', async () => {
    const started = await start('debug', 'none');
    sp = started.sp;
    await expect(sp.execute('call_host', { name: 'flaky' }, { correlationId: 'corr-bridge-3' })).rejects.toMatchObject({ details: { code: 'device_not_available' } });
    expect(started.logs.filter((r) => r.context.category === 'bridge')).toEqual([]);
    expect(started.logs.some((r) => r.level === 'debug')).toBe(true);
  });
});
