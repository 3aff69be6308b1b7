/**
 * How the host reaches one worker, built in one place: a spawned pipe worker (its pipes carry
 * everything), a spawned gRPC worker (its pipes carry only its life cycle: `ready` with its
 * address, `fatal`, telemetry; calls go over gRPC) or an attached gRPC worker (no process).
 */
import { WorkerError } from '../errors.js';
import { foldPythonEvents } from '../telemetry/python-events.js';
import { GrpcTransport } from '../transport/grpc/grpc-transport.js';
import type { HostRegistration } from '../transport/grpc/host-server.js';
import { PipeLink } from '../transport/pipe/pipe-link.js';
import { PipeTransport } from '../transport/pipe/pipe-transport.js';
import type { HostRequest, HostRequestHandler, ReadyInfo, Transport, TransportEvents } from '../transport/types.js';
import type { AttachedEndpoint, SpawnedEndpoint } from './endpoints.js';
import type { WorkerChild } from './worker-process.js';

/** The part of the host's gRPC server a worker needs. */
export interface HostServerRef {
  readonly address: string;
  registerWorker(handler: (request: HostRequest) => Promise<unknown>, identity?: { id: string; pool: string }): HostRegistration;
}

export interface ConnectionOptions {
  workerId: string;
  pool: string;
  endpoint: SpawnedEndpoint | AttachedEndpoint;
  /** The spawned worker's process (undefined for attached workers). */
  process: WorkerChild | undefined;
  /** Where the transport reports each call's end (the worker). */
  events: TransportEvents;
  /** Answers the worker's requests to the host (host tools, session state). */
  hostRequests: HostRequestHandler | undefined;
  /** gRPC workers call the host back through this server; they register there for a token. */
  hostServer: HostServerRef | undefined;
  startupTimeoutMs: number;
  /** The connection broke for good (a bad frame, a lost attached worker): the worker must go. */
  onFailure(error: Error): void;
}

/** A worker's connection: its pipes (spawned workers) and, once connected, its transport. */
export class Connection {
  /** Spawned workers' pipes, open from the spawn on. */
  readonly link: PipeLink | undefined;
  #transport: Transport | undefined;
  #registration: HostRegistration | undefined;
  readonly #options: ConnectionOptions;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    const { process, endpoint } = options;
    if (!process || endpoint.kind !== 'spawn') return;
    this.link = new PipeLink({
      workerId: options.workerId,
      output: process.toPython,
      input: process.fromPython,
      onTelemetry: (events) => foldPythonEvents(options.pool, options.workerId, events),
    });
    // A broken pipe protocol leaves a process that can no longer be talked to (gRPC: the pipes are
    // how the parent watch reaches Python): the worker must go.
    this.link.onFailure((error) => {
      this.#transport?.fail(error); // a pipe transport has failed with its link already
      options.onFailure(error);
    });
    if (endpoint.transport === 'pipe') {
      this.#transport = new PipeTransport(this.link, options.events, { hostRequests: options.hostRequests, payload: endpoint.payload });
    }
  }

  /** The transport; undefined before `connect()` reached it (gRPC workers, during start-up). */
  get transport(): Transport | undefined {
    return this.#transport;
  }

  /** Handshakes (pipe: the `ready` frame; gRPC: the address in the pipes' `ready` frame, then Describe). */
  async connect(): Promise<ReadyInfo> {
    const { endpoint, workerId } = this.#options;
    if (endpoint.kind === 'spawn' && endpoint.transport === 'pipe') return this.#transport!.ready;
    let address: string;
    let token: string | undefined;
    if (endpoint.kind === 'spawn') {
      const announced = await this.link!.ready;
      if (!announced.address) throw new WorkerError(`Worker ${workerId} did not report its gRPC address`, 'protocol_error', { workerId });
      address = announced.address;
      token = endpoint.workerToken;
    } else {
      address = endpoint.address;
      token = endpoint.token;
    }
    const { hostRequests, hostServer } = this.#options;
    if (hostRequests && hostServer) this.#registration = hostServer.registerWorker(hostRequests, { id: workerId, pool: this.#options.pool });
    const transport = new GrpcTransport(
      {
        workerId,
        address,
        token,
        security: endpoint.kind === 'attach' ? endpoint.security : undefined,
        connectTimeoutMs: this.#options.startupTimeoutMs,
        processBound: endpoint.kind === 'spawn',
        payload: endpoint.payload,
        endpointKey: endpoint.kind === 'attach' ? endpoint : undefined,
        host: this.#registration ? { address: hostServer!.address, token: this.#registration.token } : undefined,
        // A remote worker may not reach the host: its host requests come back on this connection.
        // Spawned workers keep dial-back to the host's Unix socket (docs/protocol.md says why).
        hostStream: endpoint.kind === 'attach' && hostRequests ? { handler: hostRequests, identity: { id: workerId, pool: this.#options.pool } } : undefined,
        keepalive: endpoint.kind === 'attach' ? endpoint.keepalive : undefined,
      },
      this.#options.events,
    );
    this.#transport = transport;
    // A spawned worker's death is seen through its process; an attached one's through its channel.
    if (endpoint.kind === 'attach') transport.onFailure((error) => this.#options.onFailure(error));
    return transport.ready;
  }

  /** Fails the pipes and the transport (pending calls end with `error`) and leaves the host server. */
  close(error: Error): void {
    this.link?.fail(error);
    this.#transport?.fail(error);
    this.#registration?.unregister();
  }
}
