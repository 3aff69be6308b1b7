// Telemetry settings sent to a gRPC worker one after another must apply in that order: the worker
// serves control RPCs on several threads, so two in flight could be applied in either order.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decode, encode } from '../../src/transport/codec.js';
import { GrpcTransport } from '../../src/transport/grpc/grpc-transport.js';
import { startFakeBridgeServer } from '../helpers/fake-bridge-server.js';

let server: { address: string; close: () => void };
let address: string;
const arrived: unknown[] = [];
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  server = await startFakeBridgeServer({
    // The first setting is answered late: a second one sent meanwhile would be in flight with it.
    ConfigureTelemetry: (call: grpc.ServerUnaryCall<{ control: Buffer }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const control = decode(call.request.control);
      arrived.push(control);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      const answer = () => {
        inFlight--;
        callback(null, { settings: encode(control) });
      };
      if (arrived.length === 1) setTimeout(answer, 200);
      else answer();
    },
  });
  address = server.address;
});

afterAll(() => server.close());

it('sends one setting at a time, in the order given', async () => {
  const transport = new GrpcTransport({ workerId: 'w-order', address, connectTimeoutMs: 5_000 }, { ended: () => {}, returned: () => {}, kept: () => {} });
  transport.ready.catch(() => {}); // Describe is unimplemented here: only the control RPCs matter
  const settings = [{ resourceIntervalMs: 0 }, { resourceIntervalMs: 50 }, { sampling: 0.5 }];
  const answers = await Promise.all(settings.map((s) => transport.configureTelemetry(s)));
  expect(arrived).toEqual(settings);
  expect(maxInFlight).toBe(1);
  expect(answers).toEqual(settings);
  transport.fail(new Error('test over')); // closes the channel
});
