/**
 * The host's gRPC endpoint for calls from Python (HostService): a Unix socket (0600) in the run
 * directory by default, or grpcHost:grpcPort. Every call carries a worker's own token, which
 * tells the host which worker calls; unknown tokens are refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { PoolError, ValidationError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { encode } from '../codec.js';
import type { HostRequest, HostRequestHandler } from '../types.js';
import { callIdOf, callRequest, stateRequest, toSpecMessage, type HostToolCallMessage, type HostToolWireSpec, type SessionStateMessage } from './host-messages.js';
import { channelOptions, services, TOKEN_HEADER } from './proto.js';
import { infoFromError } from './status.js';
import { foldGrpcTelemetry, type TelemetryEventMessage } from '../../telemetry/grpc-telemetry.js';

export interface HostServerOptions {
  /** Run directory for the Unix socket. */
  runDir: string;
  /** TCP instead of the Unix socket. */
  tcp?: { host: string; port: number } | undefined;
  logger: Logger;
}

/** Who a token belongs to: its telemetry is folded under this id and pool, whatever Python claims. */
export interface HostWorkerIdentity {
  id: string;
  pool: string;
}

interface Registered {
  handler: HostRequestHandler;
  identity: HostWorkerIdentity | undefined;
}

/** A worker's registration: the token it sends, and how to withdraw it when the worker ends. */
export interface HostRegistration {
  token: string;
  unregister(): void;
}

type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;
type Outcome = { value: Buffer } | { error: ReturnType<typeof infoFromError> };

// Tokens are looked up by their hash, so lookup timing says nothing about a token's bytes.
const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/** The running HostService. */
export class HostServer {
  readonly #workers: Map<string, Registered>;

  private constructor(
    private readonly server: grpc.Server,
    /** What workers dial: `unix:/…/host.sock` or `host:port`. */
    readonly address: string,
    workers: Map<string, Registered>,
  ) {
    this.#workers = workers;
  }

  /**
   * Lets one worker call in; `handler` answers its requests. `identity` names the worker in its
   * telemetry (an attached worker started by hand does not know the id the pool gave it).
   */
  registerWorker(handler: HostRequestHandler, identity?: HostWorkerIdentity): HostRegistration {
    const token = randomBytes(32).toString('hex');
    const key = digest(token);
    this.#workers.set(key, { handler, identity });
    return { token, unregister: () => this.#workers.delete(key) };
  }

  /** Binds and starts serving. */
  static async start(options: HostServerOptions): Promise<HostServer> {
    const server = new grpc.Server(channelOptions());
    const workers = new Map<string, Registered>();
    const registrationOf = (metadata: grpc.Metadata): Registered | undefined => {
      const given = metadata.get(TOKEN_HEADER)[0];
      return typeof given === 'string' && given.length > 0 ? workers.get(digest(given)) : undefined;
    };
    const handlerOf = (metadata: grpc.Metadata): HostRequestHandler | undefined => registrationOf(metadata)?.handler;
    const refuse = { code: grpc.status.UNAUTHENTICATED, details: 'missing or unknown x-snakepit-token' };
    // Host request failures are outcomes (typed ErrorInfo), not RPC failures: Python raises with the host's code.
    const answer =
      <Req>(toRequest: (req: Req) => HostRequest | undefined): Handler<Req, Outcome> =>
      (call, callback) => {
        const handler = handlerOf(call.metadata);
        if (!handler) return callback(refuse);
        let request: HostRequest | undefined;
        try {
          request = toRequest(call.request);
        } catch (error) {
          return callback(null, { error: infoFromError(new ValidationError(`Undecodable host request: ${(error as Error).message}`, 'invalid_argument')) });
        }
        if (!request) return callback(null, { error: infoFromError(new ValidationError('Unknown host request', 'invalid_argument')) });
        Promise.resolve()
          .then(() => handler(request))
          .then(
            (value) => callback(null, { value: encode(value ?? null) }),
            (error: unknown) => callback(null, { error: infoFromError(error) }),
          );
      };
    server.addService(services().HostService.service, {
      Heartbeat: ((call, callback) => {
        if (!handlerOf(call.metadata)) return callback(refuse);
        callback(null, { server_time: Date.now() / 1000 });
      }) as Handler<unknown, { server_time: number }>,
      ListHostTools: ((call, callback) => {
        const handler = handlerOf(call.metadata);
        if (!handler) return callback(refuse);
        handler({ op: 'list', callId: callIdOf(call.request.call_id) }).then(
          (tools) => callback(null, { tools: (tools as HostToolWireSpec[]).map(toSpecMessage) }),
          (error: unknown) => callback({ code: grpc.status.FAILED_PRECONDITION, details: (error as Error).message }),
        );
      }) as Handler<{ call_id: number }, unknown>,
      ExecuteHostTool: answer<HostToolCallMessage>(callRequest),
      SessionState: answer<SessionStateMessage>(stateRequest),
      StreamTelemetry: (call: grpc.ServerReadableStream<TelemetryEventMessage, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const registered = registrationOf(call.metadata);
        if (!registered) return callback(refuse);
        let received = 0;
        call.on('data', (event: TelemetryEventMessage) => {
          received++;
          foldGrpcTelemetry(event, registered.identity);
        });
        call.on('end', () => callback(null, { received }));
        call.on('error', () => {});
      },
    });
    const socketPath = path.join(options.runDir, 'host.sock');
    const bindTarget = options.tcp ? `${options.tcp.host}:${options.tcp.port}` : `unix:${socketPath}`;
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(bindTarget, grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
        error ? reject(bindError(bindTarget, error)) : resolve(boundPort),
      ),
    );
    if (!options.tcp) chmodSync(socketPath, 0o600);
    const address = options.tcp ? `${options.tcp.host}:${port}` : `unix:${socketPath}`;
    return new HostServer(server, address, workers);
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

/** grpc-js reports a busy port as "No address added out of total 1 resolved": name the address and the fix. */
function bindError(address: string, cause: Error): PoolError {
  return new PoolError(
    `The host's gRPC endpoint cannot listen on ${address} (${cause.message}): choose a free grpcPort, or leave it unset to use a Unix socket`,
    'host_bind_failed',
    { address, reason: cause.message },
    cause,
  );
}

