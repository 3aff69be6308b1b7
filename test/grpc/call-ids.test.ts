// A served worker's call table (cancels, recalls, cancels that came before their call) is shared by
// every host connection it serves: a later pool, or another host attached to the same worker. Call ids
// must therefore not repeat across connections, or one connection's note would cancel another's call.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encode } from '../../src/transport/codec.js';
import { GrpcTransport } from '../../src/transport/grpc/grpc-transport.js';
import { startFakeBridgeServer } from '../helpers/fake-bridge-server.js';
import { outgoingCall, transportCalls } from '../helpers/transport-calls.js';

let server: { address: string; close: () => void };
let address: string;
const seen: number[] = [];

beforeAll(async () => {
  server = await startFakeBridgeServer({
    ExecuteTool: (call: grpc.ServerUnaryCall<{ call_id: number }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      seen.push(call.request.call_id);
      callback(null, { outcome: 'value', value: encode(null) });
    },
  });
  address = server.address;
});

afterAll(() => server.close());

async function idsOfOneConnection(n: number): Promise<number[]> {
  const from = seen.length;
  const calls = transportCalls();
  const transport = new GrpcTransport({ workerId: 'w-ids', address, connectTimeoutMs: 5_000 }, calls.events);
  transport.ready.catch(() => {}); // Describe is unimplemented here: only ExecuteTool matters
  for (let i = 0; i < n; i++) await calls.call(transport, outgoingCall({ tool: 'echo', args: {} }));
  transport.fail(new Error('test over'));
  return seen.slice(from);
}

it('numbers the calls of each connection from its own random start, never reusing another connection\'s ids', async () => {
  const first = await idsOfOneConnection(3);
  const second = await idsOfOneConnection(3);
  for (const ids of [first, second]) {
    expect(ids.every(Number.isSafeInteger)).toBe(true);
    expect(ids.map((id) => id - ids[0]!)).toEqual([0, 1, 2]);
  }
  expect(first.filter((id) => second.includes(id))).toEqual([]);
});
