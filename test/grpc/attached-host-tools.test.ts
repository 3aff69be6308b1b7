// Host tools and session state from an attached worker (on loopback, no root needed): Python's requests
// come back on the HostStream the host opened on its own connection (the namespaced variant, where the
// worker cannot reach the host at all, is in netns-discovery.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Snakepit } from '../../src/index.js';
import { startAttachedWorker, type AttachedWorker } from '../helpers/attached.js';
import { recordTelemetry } from '../helpers/telemetry.js';

describe('host tools from attached workers', () => {
  let dir: string;
  let worker: AttachedWorker;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-attached-host-'));
    worker = await startAttachedWorker({ dir, name: 'w', listen: '127.0.0.1:0', adapter: 'host_adapter.HostAdapter' });
  });
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.child;
    rmSync(dir, { recursive: true, force: true });
  });

  it('calls host tools, lists them and keeps session state, scoped to the running call', async () => {
    const sp = await Snakepit.start({ pools: [{ name: 'default', transport: 'grpc', workers: [{ address: worker.address }] }] }, { logSink: () => {} });
    try {
      const seen: unknown[] = [];
      sp.registerTool('add', (args, context) => {
        seen.push(context.sessionId);
        return (args.a as number) + (args.b as number);
      }, { exposedToPython: true });
      const session = sp.session('s-attached');
      await expect(session.execute('call_host', { name: 'add', args: { a: 20, b: 22 } })).resolves.toBe(42);
      expect(seen).toEqual(['s-attached']); // the host took the session from the call, not from Python
      await expect(sp.execute('list_host_tools')).resolves.toEqual(['add']);
      await session.execute('state_set', { key: 'k', value: { deep: [1, 2] } });
      expect(session.state.get('k')).toEqual({ deep: [1, 2] });
      await expect(session.execute('state_get', { key: 'k' })).resolves.toEqual({ deep: [1, 2] });
      await expect(sp.execute('state_all')).rejects.toMatchObject({ code: 'python_error', details: { code: 'no_session' } });
    } finally {
      await sp.stop();
    }
  });

  it("carries the worker's telemetry, under the pool's id for it", async () => {
    const emitter = await startAttachedWorker({ dir, name: 'telemetry', listen: '127.0.0.1:0', adapter: 'telemetry_adapter.TelemetryAdapter' });
    const rec = recordTelemetry(['snakepit.python.custom']);
    const sp = await Snakepit.start({ pools: [{ name: 'default', transport: 'grpc', workers: [{ address: emitter.address }] }] }, { logSink: () => {} });
    try {
      await sp.execute('emit_many', { n: 2 }, { correlationId: 'over-the-stream' });
      await rec.until((seen) => seen.length >= 2, 'the two custom events');
      expect(rec.seen[0]!.metadata).toMatchObject({ pool: 'default', workerId: sp.listWorkers()[0]!.id, correlationId: 'over-the-stream' });
    } finally {
      rec.stop();
      await sp.stop();
      emitter.child.kill('SIGKILL');
      await emitter.child;
    }
  });
});
