// The host bridge takes a request's session from the call it names on the asking worker, never from Python.
import { describe, expect, it } from 'vitest';
import { HostBridge, type AskingWorker } from '../../src/bridge/host-bridge.js';
import { blockedWorkers } from '../../src/bridge/call-chain.js';
import { ToolRegistry } from '../../src/bridge/tool-registry.js';
import { SessionStore } from '../../src/session/session-store.js';

function setup() {
  const registry = new ToolRegistry();
  const sessions = new SessionStore({ defaultTtlMs: 60_000, cleanupIntervalMs: 60_000 });
  const bridge = new HostBridge({ registry, sessions, hostToolTimeoutMs: 1_000 });
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

describe('HostBridge', () => {
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
