// The host bridge takes a request's session from the call it names on the asking worker, never from Python.
import { describe, expect, it } from 'vitest';
import { HostRequests, type AskingWorker } from '../../../src/host-tools/host-requests.js';
import { blockedWorkers } from '../../../src/host-tools/call-chain.js';
import { ToolRegistry } from '../../../src/host-tools/tool-registry.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { SnakepitError } from '../../../src/errors.js';
import { Logger, REDACTED, type LogRecord } from '../../../src/logger.js';

function setup() {
  const registry = new ToolRegistry();
  const sessions = new SessionStore({ defaultTtlMs: 60_000, cleanupIntervalMs: 60_000 });
  const bridge = new HostRequests({ registry, sessions, hostToolTimeoutMs: 1_000 });
  // Worker w1 runs call 1 in session s1 and call 2 without a session.
  const calls = new Map<number, string | undefined>([
    [1, 's1'],
    [2, undefined],
  ]);
  const worker: AskingWorker = { id: 'w1', pool: 'default', callContext: (id) => (calls.has(id) ? { sessionId: calls.get(id) } : undefined) };
  sessions.ensure('s1');
  sessions.ensure('s2');
  registry.register('mine', () => 's1 tool', { exposedToPython: true }, 's1');
  registry.register('theirs', () => 's2 tool', { exposedToPython: true }, 's2');
  registry.register('global', (_args, ctx) => ({ session: ctx.sessionId, worker: ctx.workerId, blocked: blockedWorkers()?.has(worker) }), { exposedToPython: true });
  return { bridge, worker, sessions };
}

describe('HostRequests', () => {
  it("runs a tool in the session of the named call, with the worker marked blocked", async () => {
    const { bridge, worker, sessions } = setup();
    await expect(bridge.handle(worker, { op: 'call', callId: 1, tool: 'mine', args: {}, timeoutMs: undefined })).resolves.toBe('s1 tool');
    await expect(bridge.handle(worker, { op: 'call', callId: 1, tool: 'global', args: {}, timeoutMs: undefined })).resolves.toEqual({ session: 's1', worker: 'w1', blocked: true });
    expect(sessions.get('s1')?.stats.hostToolCalls).toBe(2);
  });

  it("never reaches another session's tools", async () => {
    const { bridge, worker } = setup();
    await expect(bridge.handle(worker, { op: 'call', callId: 1, tool: 'theirs', args: {}, timeoutMs: undefined })).rejects.toMatchObject({
      code: 'unknown_host_tool',
      details: { available: ['global', 'mine'] },
    });
    const listed = (await bridge.handle(worker, { op: 'list', callId: 2 })) as { name: string }[];
    expect(listed.map((t) => t.name)).toEqual(['global']);
  });

  it('refuses a call id that is not running on the asking worker', async () => {
    const { bridge, worker } = setup();
    await expect(bridge.handle(worker, { op: 'list', callId: 99 })).rejects.toMatchObject({ code: 'unknown_call', details: { callId: 99, workerId: 'w1' } });
  });

  it('reads and writes the state of the call session only; none without a session', async () => {
    const { bridge, worker, sessions } = setup();
    await bridge.handle(worker, { op: 'state', callId: 1, action: 'set', key: 'k', value: [1] });
    await expect(bridge.handle(worker, { op: 'state', callId: 1, action: 'get_all' })).resolves.toEqual({ k: [1] });
    expect(sessions.stateSnapshot('s2')).toEqual({});
    await bridge.handle(worker, { op: 'state', callId: 1, action: 'delete', key: 'k' });
    expect(sessions.stateSnapshot('s1')).toEqual({});
    await expect(bridge.handle(worker, { op: 'state', callId: 2, action: 'get_all' })).rejects.toMatchObject({ code: 'no_session' });
    await expect(bridge.handle(worker, { op: 'state', callId: undefined, action: 'get_all' })).rejects.toMatchObject({ code: 'no_session' });
    await expect(bridge.handle(worker, { op: 'state', callId: 1, action: 'set', key: '' })).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('HostRequests logs (category bridge)', () => {
  /** A bridge whose records land in `records`; `bridge` category at `level`, everything else at error. */
  function logged(level: 'debug' | 'warn' | 'none') {
    const records: LogRecord[] = [];
    const logger = new Logger('error', (r) => records.push(r), {}, { bridge: level });
    const registry = new ToolRegistry(logger);
    const sessions = new SessionStore({ defaultTtlMs: 60_000, cleanupIntervalMs: 60_000 });
    const bridge = new HostRequests({ registry, sessions, hostToolTimeoutMs: 1_000, logger });
    const worker: AskingWorker = { id: 'w1', pool: 'default', callContext: (id) => (id === 1 ? { sessionId: undefined, correlationId: 'corr-7' } : undefined) };
    registry.register('ok', () => 1, { exposedToPython: true });
    registry.register('boom', () => {
      throw new SnakepitError('no luck', { code: 'device_not_available', category: 'pool', details: { apiKey: 'sk-123', region: 'eu' } });
    }, { exposedToPython: true });
    registry.register('slow', () => new Promise(() => {}), { exposedToPython: true, timeoutMs: 20 });
    registry.register('typed', () => 1, { exposedToPython: true, parameters: [{ name: 'password', type: 'integer', required: true }] });
    const call = (tool: string, args: Record<string, unknown> = {}) => bridge.handle(worker, { op: 'call', callId: 1, tool, args, timeoutMs: undefined }).catch((e: unknown) => e);
    return { records, registry, call, bridge, worker };
  }

  it('logs registrations and answered calls at debug, with the call correlation id', async () => {
    const { records, registry, call } = logged('debug');
    await call('ok');
    registry.unregister('ok');
    expect(records.map((r) => [r.level, r.context.category, r.context.tool])).toEqual([
      ['debug', 'bridge', 'ok'],
      ['debug', 'bridge', 'boom'],
      ['debug', 'bridge', 'slow'],
      ['debug', 'bridge', 'typed'],
      ['debug', 'bridge', 'ok'],
      ['debug', 'bridge', 'ok'],
    ]);
    expect(records[4]!.context).toMatchObject({ correlationId: 'corr-7', workerId: 'w1', pool: 'default', durationMs: expect.any(Number) });
  });

  it('logs failures, timeouts, unknown tools and bad arguments at warn, secrets redacted, values never quoted', async () => {
    const { records, call, bridge, worker } = logged('warn');
    await expect(call('boom')).resolves.toMatchObject({ code: 'device_not_available' });
    await expect(call('slow')).resolves.toMatchObject({ code: 'host_tool_timeout' });
    await expect(call('nope')).resolves.toMatchObject({ code: 'unknown_host_tool' });
    await expect(call('typed', { password: 'hunter2' })).resolves.toMatchObject({ code: 'invalid_host_tool_args' });
    await expect(bridge.handle(worker, { op: 'list', callId: 9 })).rejects.toMatchObject({ code: 'unknown_call' });
    expect(records.map((r) => [r.level, r.context.category, r.context.code ?? r.context.op])).toEqual([
      ['warn', 'bridge', 'device_not_available'],
      ['warn', 'bridge', 'host_tool_timeout'],
      ['warn', 'bridge', 'unknown_host_tool'],
      ['warn', 'bridge', 'invalid_host_tool_args'],
      ['warn', 'bridge', 'list'],
    ]);
    expect(records.slice(0, 4).every((r) => r.context.correlationId === 'corr-7')).toBe(true);
    expect(records[0]!.context.details).toEqual({ apiKey: REDACTED, region: 'eu' });
    expect(records[3]!.context.fields).toEqual(['password']);
    expect(JSON.stringify(records)).not.toContain('hunter2');
    expect(JSON.stringify(records)).not.toContain('sk-123');
  });

  it("is silent when the bridge category's level is none, whatever happens", async () => {
    const { records, call } = logged('none');
    await call('ok');
    await call('boom');
    await call('nope');
    expect(records).toEqual([]);
  });
});
