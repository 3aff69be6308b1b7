/** The gRPC transport: the original's wire protocol, behind the same Transport seam as the pipe. */
import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { WorkerError } from '../../errors.js';
import { decode, encode, encodePayload, type PayloadOptions } from '../codec.js';
import { removeShm } from '../shm.js';
import type { TelemetryControl } from '../../telemetry/python-events.js';
import type { HostRequestHandler, OutgoingCall, ReadyInfo, Transport, TransportEvents } from '../types.js';
import { pythonErrorFromWire } from '../wire-error.js';
import { CORRELATION_HEADER, type ErrorInfoMessage, HOST_STREAM_HEADER, services, TOKEN_HEADER } from './proto.js';
import { clientSettings, type ChannelSecurity, type Keepalive, type TlsMaterial } from './channel-security.js';
import { readyInfoFromDescribe, type DescribeMessage } from './describe.js';
import { HostStream } from './host-stream.js';
import { connectionAttemptFailed, connectionEstablished, connectionLost, type ConnectionIdentity } from './connection-events.js';
import { type ChunkMessage, CHUNKS_PER_MESSAGE, readChunkStream, streamWindow } from './chunk-stream.js';
import { errorFromStatus, wireErrorFromInfo } from './status.js';
import { readBatchResults } from './grpc-batch.js';
import { checkTls } from './tls-probe.js';

export interface GrpcTransportOptions {
  workerId: string;
  /** `unix:/path.sock` or `host:port`. */
  address: string;
  /** Sent as `x-snakepit-token` when the worker requires one. */
  token?: string | undefined;
  /** TLS (mTLS) to an attached worker, from the pool's `tls` (channel-security.ts). @default plaintext */
  security?: ChannelSecurity | undefined;
  /** How long to wait for the channel and the Describe handshake. */
  connectTimeoutMs: number;
  /**
   * True for a worker whose process we spawned: its exit (code, signal) explains a lost
   * connection better than the channel can, so the channel is not watched and a call that loses
   * its connection waits up to `lostCallHoldMs` for `fail()` with the exit's error.
   */
  processBound?: boolean;
  /** Where this worker calls the host back (HostService) and its own token there; sent in Describe. */
  host?: { address: string; token: string } | undefined;
  /**
   * Open `HostStream` once connected: the worker's host requests (and telemetry) come back on
   * this connection, answered by `handler`; no dial-back needed. @default none (dial-back only)
   */
  hostStream?: { handler: HostRequestHandler; identity: { id: string; pool: string } } | undefined;
  /** HTTP/2 keepalive pings, so a dead peer or a partition fails the connection in seconds. @default none */
  keepalive?: Keepalive | undefined;
  /** Shared memory for large arguments (spawned workers only), payload limit. @default inline, no limit of its own */
  payload?: PayloadOptions | undefined;
  /**
   * The attached endpoint this connection serves: the pool's own object, the same for every
   * connection to that worker. A connection that follows a lost one emits
   * `snakepit.grpc.connection.reconnected`. @default none (spawned workers: a new process is a new worker)
   */
  endpointKey?: object | undefined;
}

const noop = (): void => {};
const NO_BYTES = Buffer.alloc(0);

/** How long a call that lost its connection waits for the process exit to explain it. */
const LOST_CALL_HOLD_MS = 2_000;
/** A telemetry control message gets this long to be applied. */
const TELEMETRY_SETTINGS_DEADLINE_MS = 5_000;
/** A cancel, a recall (unanswered: the call runs where it is) or a stream's credit grant gets this long to reach the worker. */
const CALL_CONTROL_DEADLINE_MS = 5_000;
/** A session's cleanup hook gets this long before the host gives up on it. */
const CLEANUP_SESSION_DEADLINE_MS = 10_000;

interface OutcomeMessage {
  outcome?: 'value' | 'error';
  value?: Buffer;
  error?: ErrorInfoMessage;
}

type Client = grpc.Client & Record<string, (...args: unknown[]) => grpc.ClientUnaryCall & grpc.ClientReadableStream<unknown>>;

interface Pending {
  call: grpc.ClientUnaryCall | grpc.ClientReadableStream<unknown>;
  /** Shared-memory files of the call's arguments: removed when the call ends. */
  shmFiles: string[];
  /** A RecallTool is out for it: an answer that comes first waits for the recall's (see recall). */
  recalling?: boolean;
  /** The answer that came while the recall was out. */
  held?: { ok: boolean; outcome: unknown };
}

/** One connection to a worker's BridgeService. */
export class GrpcTransport implements Transport {
  readonly kind = 'grpc' as const;
  readonly ready: Promise<ReadyInfo>;
  readonly #client: Client;
  readonly #workerId: string;
  readonly #token: string | undefined;
  readonly #pending = new Map<number, Pending>();
  /** From a random point in 2^47: a worker's call table is shared by every connection it serves (later pools, other hosts), so ids must not repeat across them. */
  #nextId = randomInt(1, 2 ** 47);
  #failure: Error | undefined;
  /** The last telemetry setting sent: the next waits for it (see configureTelemetry). */
  #telemetryChain: Promise<unknown> = Promise.resolve();
  #onFailure: ((error: Error) => void) | undefined;
  readonly #processBound: boolean;
  readonly #payload: PayloadOptions;
  readonly #host: { address: string; token: string } | undefined;
  /** Set once the handshake succeeded: a later failure is a lost connection. */
  #connected = false;
  readonly #address: string;
  /** Who this connection is, for its connection events (connection-events.ts). */
  readonly #identity: ConnectionIdentity;
  /** The host is stopping the worker: the end of this connection is no loss. */
  #stopping = false;
  readonly #tls: TlsMaterial | undefined;
  readonly #hostStreamOptions: GrpcTransportOptions['hostStream'];
  /** Set once the worker opened it: calls name it so their host requests come back on it. */
  #hostStream: HostStream | undefined;
  /** The worker takes stream credit (GrantCredit); otherwise a consumer's buffer pauses the response stream. */
  #streamCredit = false;

  readonly #events: TransportEvents;

  constructor(options: GrpcTransportOptions, events: TransportEvents) {
    this.#events = events;
    this.#workerId = options.workerId;
    this.#processBound = options.processBound ?? false;
    this.#payload = options.payload ?? {};
    this.#host = options.host;
    this.#token = options.token;
    this.#address = options.address;
    this.#identity = { workerId: options.workerId, address: options.address, processBound: this.#processBound, endpointKey: options.endpointKey };
    this.#tls = options.security?.tls;
    this.#hostStreamOptions = options.hostStream;
    const { BridgeService } = services();
    const { credentials, options: channel } = clientSettings(options.security, options.keepalive);
    this.#client = new BridgeService(options.address, credentials, channel) as unknown as Client;
    this.ready = this.#handshake(options.connectTimeoutMs);
    this.ready.catch(() => connectionAttemptFailed(this.#identity));
  }

  /** Called once when the transport fails for good (the channel broke, or `fail()`). */
  onFailure(listener: (error: Error) => void): void {
    this.#onFailure = listener;
  }

  call(call: OutgoingCall): number {
    const id = this.#nextId++;
    if (this.#failure) {
      this.#endLater(id, this.#failure);
      return id;
    }
    let args: Buffer;
    let shmFiles: string[];
    try {
      // A batch's inputs travel in place of the arguments.
      ({ body: args, shmFiles } = encodePayload(call.batch ? call.batch.inputs() : call.args, this.#payload));
    } catch (error) {
      this.#endLater(id, error as Error); // over maxPayloadBytes, or /dev/shm full: nothing was sent
      return id;
    }
    const message = {
      call_id: id,
      tool_name: call.tool,
      args: call.batch ? NO_BYTES : args,
      session_id: call.sessionId ?? '',
      metadata: call.metadata === undefined ? Buffer.alloc(0) : encode(call.metadata),
      has_restore: call.restore !== undefined,
      restore_state: call.restore === undefined ? Buffer.alloc(0) : encode(call.restore),
      chunk_batch: call.streaming ? CHUNKS_PER_MESSAGE : 0,
      window: streamWindow(call, this.#streamCredit),
    };
    const metadata = this.#metadata(call.correlationId);
    const callOptions: grpc.CallOptions = call.deadlineMs === undefined ? {} : { deadline: Date.now() + call.deadlineMs };
    const rpc = call.batch ? 'ExecuteBatch' : call.streaming ? 'ExecuteStreamingTool' : 'ExecuteTool';
    const fail = (error: grpc.ServiceError) => {
      if (!this.#pending.has(id)) return;
      const settle = () => this.#end(id, false, errorFromStatus(error, { workerId: this.#workerId, address: this.#address, rpc, timeoutMs: call.deadlineMs }));
      // A dropped connection to a spawned worker is most likely its death: let the exit speak.
      if (this.#processBound && error.code === grpc.status.UNAVAILABLE) setTimeout(settle, LOST_CALL_HOLD_MS).unref();
      else settle();
    };
    if (call.batch) {
      const request = { call: message, items: args, fail_fast: call.batch.failFast };
      const rpcCall = this.#client.ExecuteBatch!(request, metadata, callOptions);
      readBatchResults(rpcCall, call.tool, call.batch, { ended: (ok, outcome) => this.#end(id, ok, outcome), failed: fail });
      this.#pending.set(id, { call: rpcCall, shmFiles });
      return id;
    }
    if (!call.streaming) {
      const rpcCall = this.#client.ExecuteTool!(message, metadata, callOptions, (error: grpc.ServiceError | null, response: OutcomeMessage) => {
        if (error) return fail(error);
        if (response.outcome === 'error' && response.error) this.#end(id, false, pythonErrorFromWire(wireErrorFromInfo(response.error), call.tool));
        else this.#end(id, true, response.value && response.value.length > 0 ? decode(response.value) : null);
      });
      this.#pending.set(id, { call: rpcCall, shmFiles });
      return id;
    }
    const rpcCall = this.#client.ExecuteStreamingTool!(message, metadata, callOptions) as grpc.ClientReadableStream<ChunkMessage>;
    readChunkStream(rpcCall, call, message.window, {
      pending: () => this.#pending.has(id),
      grant: (n, failed) => this.#client.GrantCredit!({ call_id: id, n }, this.#metadata(), { deadline: Date.now() + CALL_CONTROL_DEADLINE_MS }, (error: grpc.ServiceError | null) => error && failed(error)),
      end: (ok, outcome) => this.#end(id, ok, outcome),
      fail,
    });
    this.#pending.set(id, { call: rpcCall, shmFiles });
    return id;
  }

  /** A call that could not be sent still ends through `ended`, after `call()` returned its id. */
  #endLater(id: number, error: Error): void {
    queueMicrotask(() => this.#events.ended(id, false, error));
  }

  /** Removes call `id` (its argument files too: they live until the call ends) and reports its end. */
  #end(id: number, ok: boolean, outcome: unknown, force = false): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    if (pending.recalling && !force) {
      pending.held = { ok, outcome };
      return;
    }
    this.#pending.delete(id);
    for (const name of pending.shmFiles) removeShm(name);
    this.#events.ended(id, ok, outcome);
  }

  cancel(id: number): void {
    const pending = this.#pending.get(id);
    if (!pending || this.#failure) return;
    // A stream paused for its consumer reads on: Python's producer waits for its last send to
    // leave, and only then reaches the `yield` where it sees the cancel.
    if ('resume' in pending.call) pending.call.resume();
    this.#client.CancelTool!({ call_id: id }, this.#metadata(), { deadline: Date.now() + CALL_CONTROL_DEADLINE_MS }, noop);
  }

  recall(id: number): void {
    const out = this.#pending.get(id);
    if (!out || out.recalling || this.#failure) return;
    // Python answers a call it gives back `cancelled` on its own RPC, and that answer may overtake
    // the RecallTool's: any answer that comes while the recall is out waits for it.
    out.recalling = true;
    this.#client.RecallTool!({ call_id: id }, this.#metadata(), { deadline: Date.now() + CALL_CONTROL_DEADLINE_MS }, (error: grpc.ServiceError | null, response: { returned?: boolean }) => {
      const pending = this.#pending.get(id);
      if (!pending) return;
      pending.recalling = false;
      // A worker that predates RecallTool (UNIMPLEMENTED), or no answer: the call runs on there.
      if (error || !response?.returned) {
        if (pending.held) this.#end(id, pending.held.ok, pending.held.outcome);
        else this.#events.kept(id);
        return;
      }
      this.#pending.delete(id);
      for (const name of pending.shmFiles) removeShm(name);
      pending.call.cancel(); // Python answers the dropped RPC `cancelled`; nobody listens
      this.#events.returned(id);
    });
  }

  async ping(timeoutMs: number): Promise<void> {
    await this.#unary('Ping', { message: 'ping' }, timeoutMs);
  }

  async cleanupSession(sessionId: string): Promise<void> {
    await this.#unary('CleanupSession', { session_id: sessionId }, CLEANUP_SESSION_DEADLINE_MS);
  }

  /**
   * Sends Python new telemetry settings (`BridgeService.ConfigureTelemetry`); resolves with the
   * worker's settings once applied.
   */
  configureTelemetry(control: TelemetryControl, timeoutMs = TELEMETRY_SETTINGS_DEADLINE_MS): Promise<Record<string, unknown>> {
    // One at a time: the worker serves control RPCs on several threads, so two in flight could
    // apply in either order (a start's settings overtaking the change sent just after).
    const sent = this.#telemetryChain.then(() => this.#configureTelemetryNow(control, timeoutMs));
    this.#telemetryChain = sent.catch(() => undefined);
    return sent;
  }

  async #configureTelemetryNow(control: TelemetryControl, timeoutMs: number): Promise<Record<string, unknown>> {
    const { settings } = await this.#unary<{ settings: Buffer }>('ConfigureTelemetry', { control: encode(control) }, timeoutMs);
    return settings.length > 0 ? (decode(settings) as Record<string, unknown>) : {};
  }

  /** One unary control RPC with a deadline; a failed connection or status rejects as a typed error. */
  #unary<R = unknown>(rpc: 'Ping' | 'CleanupSession' | 'ConfigureTelemetry', request: object, timeoutMs: number): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      this.#client[rpc]!(request, this.#metadata(), { deadline: Date.now() + timeoutMs }, (error: grpc.ServiceError | null, response: R) =>
        error ? reject(errorFromStatus(error, { workerId: this.#workerId, address: this.#address, rpc, timeoutMs })) : resolve(response),
      );
    });
  }

  /** The host is stopping this worker: `lost` will say `pool_stopped`, and no reconnection is awaited. */
  stopping(): void {
    this.#stopping = true;
  }

  drained(timeoutMs: number): Promise<void> {
    const channel = this.#client.getChannel();
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve) => {
      // grpc-js leaves READY once it read the closed socket to its end: every answer sent before is in.
      const check = (): void => {
        const state = channel.getConnectivityState(false);
        if (this.#failure || state !== grpc.connectivityState.READY || Date.now() >= deadline) return resolve();
        channel.watchConnectivityState(state, deadline, check);
      };
      check();
    });
  }

  fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    // The owner first (an attached worker stops taking calls), then the calls: a retry must not pick this connection.
    this.#onFailure?.(error);
    for (const [id, p] of [...this.#pending]) {
      this.#end(id, false, error, true);
      p.call.cancel(); // after: the RPC's own CANCELLED then finds nothing to end
    }
    this.#hostStream?.close();
    this.#client.close();
    if (this.#connected) {
      const raw = (error as { code?: unknown }).code;
      // A spawned worker's stop ends with its exit's error: say why the connection ended instead.
      const code = this.#stopping ? 'pool_stopped' : typeof raw === 'string' ? raw : undefined;
      connectionLost(this.#identity, code);
    }
  }

  #metadata(correlationId?: string): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.#token) metadata.set(TOKEN_HEADER, this.#token);
    if (correlationId) metadata.set(CORRELATION_HEADER, correlationId);
    if (this.#hostStream) metadata.set(HOST_STREAM_HEADER, this.#hostStream.id);
    return metadata;
  }

  async #handshake(timeoutMs: number): Promise<ReadyInfo> {
    const startedAt = performance.now();
    const deadline = Date.now() + timeoutMs;
    // A certificate problem fails at once, typed, instead of the channel redialling until its deadline.
    if (this.#tls) await checkTls(this.#address, this.#tls, timeoutMs, this.#workerId);
    await new Promise<void>((resolve, reject) =>
      this.#client.waitForReady(deadline, (error) => (error ? reject(new WorkerError(`Cannot connect to worker ${this.#workerId}: ${error.message}`, 'worker_start_failed', { workerId: this.#workerId, address: this.#address })) : resolve())),
    );
    const info = await new Promise<DescribeMessage>((resolve, reject) =>
      this.#client.Describe!({ host_address: this.#host?.address ?? '', host_token: this.#host?.token ?? '' }, this.#metadata(), { deadline }, (error: grpc.ServiceError | null, response: DescribeMessage) =>
        error ? reject(errorFromStatus(error, { workerId: this.#workerId, address: this.#address, rpc: 'Describe' })) : resolve(response),
      ),
    );
    if (this.#hostStreamOptions) {
      const { handler, identity } = this.#hostStreamOptions;
      const remainingMs = Math.max(1, deadline - Date.now());
      this.#hostStream = await HostStream.open(this.#client, { workerId: this.#workerId, address: this.#address, handler, identity, metadata: this.#metadata(), timeoutMs: remainingMs });
    }
    if (this.#failure) {
      this.#hostStream?.close();
      throw this.#failure; // failed (e.g. start-up timeout) while Describe was under way
    }
    this.#streamCredit = info.stream_credit === true;
    if (!this.#processBound) this.#watchChannel();
    this.#connected = true;
    connectionEstablished(this.#identity, performance.now() - startedAt, info.pid);
    return readyInfoFromDescribe(info);
  }


  /**
   * A channel that leaves READY lost its connection: the worker died, drained and closed it, or a
   * keepalive ping went unanswered (a partition). The worker went away: whatever answers on the
   * address later is another process, met by a new handshake (grpc-js would reconnect silently).
   */
  #watchChannel(): void {
    const channel = this.#client.getChannel();
    const watch = (current: grpc.connectivityState) => {
      if (this.#failure) return;
      if (current !== grpc.connectivityState.READY) {
        this.fail(new WorkerError(`Lost the connection to worker ${this.#workerId} at ${this.#address}`, 'worker_crashed', { workerId: this.#workerId, address: this.#address }));
        return;
      }
      channel.watchConnectivityState(current, Infinity, () => watch(channel.getConnectivityState(false)));
    };
    watch(channel.getConnectivityState(false));
  }
}
