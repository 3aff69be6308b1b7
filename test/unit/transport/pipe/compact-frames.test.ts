// Compact frames (docs/protocol.md, "Compact frames"): the host sends a plain call as `[0, id, tool, args, corr]`
// to a worker whose `ready` says protocol 2, keeps maps for anything more and for protocol 1, and reads `[1, id, value]`.
import { describe, expect, it } from 'vitest';
import { COMPACT } from '../../../../src/transport/pipe/frames.js';
import { pipeHarness as harness, workerFrame as frame } from '../../../helpers/pipe-harness.js';
import { outgoingCall } from '../../../helpers/transport-calls.js';

describe('compact frames', () => {
  it('a plain call goes out compact to a protocol-2 worker, and a compact result ends it', async () => {
    const h = await harness(2);
    const result = h.calls.call(h.transport, outgoingCall({ tool: 'echo', args: { v: 1 }, correlationId: 'c-1' }));
    const sent = (await h.sent()) as unknown[];
    expect(sent).toEqual([COMPACT.call, expect.any(Number), 'echo', { v: 1 }, 'c-1']);
    h.input.write(frame([COMPACT.result, sent[1], { ok: true }]));
    await expect(result).resolves.toEqual({ ok: true });
  });

  it.each([
    ['a session', { sessionId: 's1' }],
    ['metadata', { metadata: { user: 'u' } }],
    ['a session restore', { sessionId: 's1', restore: { k: 1 } }],
  ])('a call with %s keeps the map form', async (_what, fields) => {
    const h = await harness(2);
    void h.calls.call(h.transport, outgoingCall({ tool: 'echo', args: {}, ...fields }));
    expect(await h.sent()).toMatchObject({ t: 'call', tool: 'echo' });
  });

  it('a protocol-1 worker gets maps', async () => {
    const h = await harness(1);
    void h.calls.call(h.transport, outgoingCall({ tool: 'echo', args: {}, correlationId: 'c-2' }));
    expect(await h.sent()).toMatchObject({ t: 'call', tool: 'echo', corr: 'c-2' });
  });

  it("an argument that cannot cross names its path from the call's args, compact or not", async () => {
    for (const protocol of [1, 2]) {
      const h = await harness(protocol);
      const error = await h.calls.call(h.transport, outgoingCall({ tool: 'echo', args: { f: () => 1 } })).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'invalid_args', details: { path: 'f', reason: 'function' } });
    }
  });

  it('a malformed compact frame fails the link with protocol_error', async () => {
    const h = await harness(2);
    const result = h.calls.call(h.transport, outgoingCall({ tool: 'echo', args: {} }));
    await h.sent();
    h.input.write(frame([7, 1]));
    await expect(result).rejects.toMatchObject({ code: 'protocol_error' });
  });
});
