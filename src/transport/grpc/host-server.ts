/**
 * The host's gRPC endpoint for calls from Python (HostService): a Unix socket (0600) in the run
 * directory by default, or grpcHost:grpcPort. Every call must carry the run's token.
 */
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ValidationError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { decode, encode } from '../codec.js';
import { channelOptions, services, TOKEN_HEADER } from './proto.js';
import { infoFromError, statusFromError } from './status.js';

/** A host tool as Python sees it in `host_tools`. */
export interface HostToolSpec {
  name: string;
  description: string;
  parameters: { name: string; type: string; required: boolean }[];
}

/** What the host server asks about host tools (the registry implements it). */
export interface HostToolHandler {
  list(sessionId: string): HostToolSpec[];
  call(sessionId: string, name: string, args: Record<string, unknown>, timeoutMs: number | undefined): Promise<unknown>;
}

/** A registry with no tools: every call is an unknown tool. */
export const NO_HOST_TOOLS: HostToolHandler = {
  list: () => [],
  call: (_session, name) => Promise.reject(new ValidationError(`Unknown host tool '${name}' (available: none)`, 'unknown_tool', { tool: name, available: [] })),
};

export interface HostServerOptions {
  /** Run directory for the Unix socket. */
  runDir: string;
  /** TCP instead of the Unix socket. */
  tcp?: { host: string; port: number } | undefined;
  token: string;
  tools: HostToolHandler;
  logger: Logger;
}

type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

/** The running HostService. */
export class HostServer {
  private constructor(
    private readonly server: grpc.Server,
    /** What workers dial: `unix:/…/host.sock` or `host:port`. */
    readonly address: string,
  ) {}

  /** Binds and starts serving. */
  static async start(options: HostServerOptions): Promise<HostServer> {
    const server = new grpc.Server(channelOptions());
    const expected = Buffer.from(options.token);
    const authorized = (metadata: grpc.Metadata) => {
      const given = metadata.get(TOKEN_HEADER)[0];
      const buffer = Buffer.from(typeof given === 'string' ? given : '');
      return buffer.length === expected.length && timingSafeEqual(buffer, expected);
    };
    const guard =
      <Req, Res>(handler: Handler<Req, Res>): Handler<Req, Res> =>
      (call, callback) => {
        if (!authorized(call.metadata)) return callback({ code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong x-snakepit-token' });
        handler(call, callback);
      };
    server.addService(services().HostService.service, {
      Heartbeat: guard<unknown, { server_time: number }>((_call, callback) => callback(null, { server_time: Date.now() / 1000 })),
      ListHostTools: guard<{ session_id: string }, unknown>((call, callback) => {
        const tools = options.tools.list(call.request.session_id);
        callback(null, { tools: tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })) });
      }),
      ExecuteHostTool: guard<{ session_id: string; tool_name: string; args: Buffer; timeout_ms: number }, unknown>((call, callback) => {
        const { session_id, tool_name, args, timeout_ms } = call.request;
        let parsed: Record<string, unknown>;
        try {
          parsed = args.length > 0 ? (decode(args) as Record<string, unknown>) : {};
        } catch (error) {
          return callback(statusFromError(new ValidationError(`Undecodable arguments for ${tool_name}: ${(error as Error).message}`, 'invalid_argument')));
        }
        // Tool failures are outcomes (typed ErrorInfo), not RPC failures: Python raises with the host's code.
        options.tools.call(session_id, tool_name, parsed, timeout_ms || undefined).then(
          (value) => callback(null, { value: encode(value) }),
          (error: unknown) => callback(null, { error: infoFromError(error) }),
        );
      }),
      StreamTelemetry: (call: grpc.ServerReadableStream<{ event: string; worker_id: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        if (!authorized(call.metadata)) return callback({ code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong x-snakepit-token' });
        let received = 0;
        call.on('data', (event: { event: string; worker_id: string }) => {
          received++;
          options.logger.debug(`telemetry ${event.event}`, { workerId: event.worker_id });
        });
        call.on('end', () => callback(null, { received }));
        call.on('error', () => {});
      },
    });
    const socketPath = path.join(options.runDir, 'host.sock');
    const bindTarget = options.tcp ? `${options.tcp.host}:${options.tcp.port}` : `unix:${socketPath}`;
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(bindTarget, grpc.ServerCredentials.createInsecure(), (error, boundPort) => (error ? reject(error) : resolve(boundPort))),
    );
    if (!options.tcp) chmodSync(socketPath, 0o600);
    const address = options.tcp ? `${options.tcp.host}:${port}` : `unix:${socketPath}`;
    return new HostServer(server, address);
  }

  /** Stops accepting calls and closes open ones after a short grace. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 1_000);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
