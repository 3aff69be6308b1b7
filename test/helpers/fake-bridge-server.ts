// A grpc-js server speaking BridgeService with only the RPCs a test gives (the rest UNIMPLEMENTED):
// for transport tests about what the host sends, where a real worker could not show the order or ids.
import * as grpc from '@grpc/grpc-js';
import { services } from '../../src/transport/grpc/proto.js';

/** Starts it on 127.0.0.1; `address` to dial, `close` to stop it. */
export async function startFakeBridgeServer(handlers: Record<string, unknown>): Promise<{ address: string; close: () => void }> {
  const server = new grpc.Server();
  const { BridgeService } = services();
  const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback({ code: grpc.status.UNIMPLEMENTED });
  const all: Record<string, unknown> = {};
  for (const name of Object.keys(BridgeService.service)) all[name] = handlers[name] ?? unimplemented;
  server.addService(BridgeService.service, all as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}
