/** The gRPC floor: a grpc-js client calling a bare grpcio server (bench/python/raw_grpc_echo.py). */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { decode, encode } from '../src/transport/codec.js';
import { channelOptions, services } from '../src/transport/grpc/proto.js';
import { bridgePythonPath } from '../src/python/runtime.js';
import { waitForReadyFile } from './ready-file.js';

type Client = grpc.Client & { ExecuteTool: (req: object, cb: (e: grpc.ServiceError | null, r: { value: Buffer }) => void) => void };

/** One bare grpcio echo server and a grpc-js client with the same channel options as ours. */
export class RawGrpcEcho {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: Client,
    private readonly dir: string,
  ) {}

  static async start(python: string, benchDir: string): Promise<RawGrpcEcho> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-bench-'));
    const readyFile = path.join(dir, 'ready.json');
    const child = spawn(python, [path.join(benchDir, 'python', 'raw_grpc_echo.py'), `unix:${path.join(dir, 'echo.sock')}`, readyFile], {
      stdio: 'inherit',
      env: { ...process.env, PYTHONPATH: bridgePythonPath() },
    });
    const { address } = await waitForReadyFile<{ address: string }>(readyFile, 'raw grpc echo');
    const client = new (services().BridgeService)(address, grpc.credentials.createInsecure(), channelOptions()) as unknown as Client;
    return new RawGrpcEcho(child, client, dir);
  }

  call(value: unknown): Promise<unknown> {
    return new Promise((resolve, reject) =>
      this.client.ExecuteTool({ call_id: 1, tool_name: 'echo', args: encode({ value }) }, (error, response) =>
        error ? reject(error) : resolve((decode(response.value) as { value: unknown }).value),
      ),
    );
  }

  close(): void {
    this.client.close();
    this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
