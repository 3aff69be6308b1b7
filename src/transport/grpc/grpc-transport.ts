/** The gRPC transport: the original's wire protocol, behind the same Transport seam as the pipe. */
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { WorkerError } from '../../errors.js';
import { decode, encode, encodePayload, type PayloadOptions } from '../codec.js';
import { removeShm } from '../shm.js';
import { pauseLink } from '../stream-flow.js';
import { emit, enabled } from '../../telemetry/bus.js';
import type { TelemetryControl } from '../../telemetry/python-events.js';
import type { OutgoingCall, PythonRuntimeWire, ReadyInfo, ToolSpec, Transport, TransportEvents } from '../types.js';
import { pythonErrorFromWire } from '../wire-error.js';
import { channelOptions, CORRELATION_HEADER, type ErrorInfoMessage, services, TOKEN_HEADER } from './proto.js';
import { channelCredentials, type ChannelSecurity, type TlsMaterial } from './channel-security.js';
import { errorFromStatus, wireErrorFromInfo } from './status.js';
import { readBatchResults } from './grpc-batch.js';
import { probeTls } from './tls-probe.js';

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
  /** Shared memory for large arguments (spawned workers only), payload limit. @default inline, no limit of its own */
  payload?: PayloadOptions | undefined;
  /**
   * The attached endpoint this connection serves: the pool's own object, the same for every
   * connection to that worker. A connection that follows a lost one emits
   * `snakepit.grpc.connection.reconnected`. @default none (spawned workers: a new process is a new worker)
   */
  endpointKey?: object | undefined;
}

/** An attached endpoint whose connection was lost: when, whose it was, connection attempts since. */
interface LostConnection {
  lostAt: number;
  workerId: string;
  failedAttempts: number;
}

/** Keyed by the pool's endpoint object, so an entry goes with its pool: a later instance never "reconnects". */
const lostConnections = new WeakMap<object, LostConnection>();

const NO_BYTES = Buffer.alloc(0);

/** How long a call that lost its connection waits for the process exit to explain it. */
const LOST_CALL_HOLD_MS = 2_000;
/** A telemetry control message gets this long to be applied. */
const TELEMETRY_SETTINGS_DEADLINE_MS = 5_000;
/** A session's cleanup hook gets this long before the host gives up on it. */
const CLEANUP_SESSION_DEADLINE_MS = 10_000;

interface ParameterMessage {
  name: string;
  type: string;
  required: boolean;
  default_value: Buffer;
  has_default: boolean;
}

interface DescribeMessage {
  protocol: number;
  pid: number;
  adapter: string;
  tools: { name: string; description: string; parameters: ParameterMessage[]; supports_streaming: boolean; required_variables: string[]; types?: Buffer }[];
  python: string;
  concurrency: number;
  /** null from workers that predate the field (`defaults: true` gives null for messages). */
  runtime?: PythonRuntimeWire | null;
  dynamic_tools?: boolean;
}

interface OutcomeMessage {
  outcome?: 'value' | 'error';
  value?: Buffer;
  error?: ErrorInfoMessage;
}

interface ChunkMessage {
  item?: 'data' | 'error';
  data?: Buffer;
  error?: ErrorInfoMessage;
  is_final: boolean;
  /** msgpack map (empty: none). */
  metadata?: Buffer;
}

type Client = grpc.Client & Record<string, (...args: unknown[]) => grpc.ClientUnaryCall & grpc.ClientReadableStream<unknown>>;

interface Pending {
  call: grpc.ClientUnaryCall | grpc.ClientReadableStream<unknown>;
  /** Shared-memory files of the call's arguments: removed when the call ends. */
  shmFiles: string[];
}

/** One connection to a worker's BridgeService. */
export class GrpcTransport implements Transport {
  readonly kind = 'grpc' as const;
  readonly ready: Promise<ReadyInfo>;
  readonly #client: Client;
  readonly #workerId: string;
  readonly #token: string | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
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
  readonly #endpointKey: object | undefined;
  /** The host is stopping the worker: the end of this connection is no loss. */
  #stopping = false;
  readonly #tls: TlsMaterial | undefined;

  readonly #events: TransportEvents;

  constructor(options: GrpcTransportOptions, events: TransportEvents) {
    this.#events = events;
    this.#workerId = options.workerId;
    this.#processBound = options.processBound ?? false;
    this.#payload = options.payload ?? {};
    this.#host = options.host;
    this.#token = options.token;
    this.#address = options.address;
    this.#endpointKey = options.endpointKey;
    this.#tls = options.security?.tls;
    const { BridgeService } = services();
    const { credentials, options: securityOptions } = channelCredentials(options.security);
    this.#client = new BridgeService(options.address, credentials, { ...channelOptions(), ...securityOptions }) as unknown as Client;
    this.ready = this.#handshake(options.connectTimeoutMs);
    this.ready.catch(() => {
      const lost = this.#endpointKey && lostConnections.get(this.#endpointKey);
      if (lost) lost.failedAttempts++;
    });
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
    // Flow control: HTTP/2's own. A paused response stream stops reading, its window fills, and
    // Python's producer (which waits for each send) stops before its next item.
    if (call.flow) call.flow.attach(pauseLink(call.flow, rpcCall));
    let streamError: Error | undefined;
    let failed = false;
    rpcCall.on('data', (chunk: ChunkMessage) => {
      if (chunk.item === 'error' && chunk.error) streamError = pythonErrorFromWire(wireErrorFromInfo(chunk.error), call.tool);
      else if (chunk.data && this.#pending.has(id)) call.chunk(decode(chunk.data), chunk.is_final, chunk.metadata?.length ? (decode(chunk.metadata) as Record<string, unknown>) : undefined);
    });
    rpcCall.on('error', (error: grpc.ServiceError) => {
      failed = true;
      fail(error);
    });
    // grpc-js ends the stream after an error too; the error (maybe held) decides then.
    rpcCall.on('end', () => {
      if (failed) return;
      if (streamError) this.#end(id, false, streamError);
      else this.#end(id, true, undefined);
    });
    this.#pending.set(id, { call: rpcCall, shmFiles });
    return id;
  }

  /** A call that could not be sent still ends through `ended`, after `call()` returned its id. */
  #endLater(id: number, error: Error): void {
    queueMicrotask(() => this.#events.ended(id, false, error));
  }

  /** Removes call `id` (its argument files too: they live until the call ends) and reports its end. */
  #end(id: number, ok: boolean, outcome: unknown): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
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
    this.#client.CancelTool!({ call_id: id }, this.#metadata(), { deadline: Date.now() + 5_000 }, () => {});
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

  fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const [id, p] of [...this.#pending]) {
      this.#end(id, false, error);
      p.call.cancel(); // after: the RPC's own CANCELLED then finds nothing to end
    }
    this.#client.close();
    if (this.#connected) {
      const raw = (error as { code?: unknown }).code;
      // A spawned worker's stop ends with its exit's error: say why the connection ended instead.
      const code = this.#stopping ? 'pool_stopped' : typeof raw === 'string' ? raw : undefined;
      // A stop of ours is no loss to recover from; anything else waits for a reconnection.
      if (this.#endpointKey && code === 'pool_stopped') lostConnections.delete(this.#endpointKey);
      else if (this.#endpointKey) lostConnections.set(this.#endpointKey, { lostAt: performance.now(), workerId: this.#workerId, failedAttempts: 0 });
      if (enabled('snakepit.grpc.connection.lost')) {
        emit('snakepit.grpc.connection.lost', {}, { workerId: this.#workerId, attached: !this.#processBound, address: this.#address, code });
      }
    }
    this.#onFailure?.(error);
  }

  #metadata(correlationId?: string): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.#token) metadata.set(TOKEN_HEADER, this.#token);
    if (correlationId) metadata.set(CORRELATION_HEADER, correlationId);
    return metadata;
  }

  async #handshake(timeoutMs: number): Promise<ReadyInfo> {
    const startedAt = performance.now();
    const deadline = Date.now() + timeoutMs;
    if (this.#tls) await this.#checkTls(timeoutMs);
    await new Promise<void>((resolve, reject) =>
      this.#client.waitForReady(deadline, (error) => (error ? reject(new WorkerError(`Cannot connect to worker ${this.#workerId}: ${error.message}`, 'worker_start_failed', { workerId: this.#workerId, address: this.#address })) : resolve())),
    );
    const info = await new Promise<DescribeMessage>((resolve, reject) =>
      this.#client.Describe!({ host_address: this.#host?.address ?? '', host_token: this.#host?.token ?? '' }, this.#metadata(), { deadline }, (error: grpc.ServiceError | null, response: DescribeMessage) =>
        error ? reject(errorFromStatus(error, { workerId: this.#workerId, address: this.#address, rpc: 'Describe' })) : resolve(response),
      ),
    );
    if (this.#failure) throw this.#failure; // failed (e.g. start-up timeout) while Describe was under way
    if (!this.#processBound) this.#watchChannel();
    this.#connected = true;
    this.#emitConnected(performance.now() - startedAt, info.pid);
    return {
      protocol: info.protocol,
      pid: info.pid,
      adapter: info.adapter,
      python: info.python,
      concurrency: info.concurrency,
      ...(info.runtime ? { runtime: { version: info.runtime.version, gil_enabled: info.runtime.gil_enabled, free_threading: info.runtime.free_threading } } : {}),
      ...(info.dynamic_tools ? { dynamic_tools: true } : {}),
      tools: info.tools.map(
        (t): ToolSpec => ({
          name: t.name,
          description: t.description,
          supports_streaming: t.supports_streaming,
          required_variables: t.required_variables,
          ...(t.types?.length ? { types: decode(t.types) as ToolSpec['types'] } : {}),
          parameters: t.parameters.map((p) => ({
            name: p.name,
            type: p.type,
            required: p.required,
            ...(p.has_default ? { default: decode(p.default_value) } : {}),
          })),
        }),
      ),
    };
  }

  /**
   * A certificate problem fails the connection at once, typed, instead of the channel redialling
   * until its deadline; a worker not answering yet is left to the channel's wait.
   */
  async #checkTls(timeoutMs: number): Promise<void> {
    const probe = await probeTls(this.#address, this.#tls!, timeoutMs);
    if (probe.ok === true || probe.ok === 'unreachable') return;
    throw new WorkerError(`TLS to worker ${this.#workerId} at ${this.#address} failed (${probe.reason}): ${probe.message}`, 'tls_failed', {
      workerId: this.#workerId,
      address: this.#address,
      reason: probe.reason,
      tlsCode: probe.tlsCode,
    });
  }

  /** `established`, then `reconnected` when this connection ends a loss of the same attached endpoint. */
  #emitConnected(durationMs: number, pid: number): void {
    const attached = !this.#processBound;
    if (enabled('snakepit.grpc.connection.established')) {
      emit('snakepit.grpc.connection.established', { durationMs }, { workerId: this.#workerId, attached, address: this.#address, pid });
    }
    const lost = this.#endpointKey && lostConnections.get(this.#endpointKey);
    if (!lost) return;
    lostConnections.delete(this.#endpointKey!);
    if (enabled('snakepit.grpc.connection.reconnected')) {
      emit(
        'snakepit.grpc.connection.reconnected',
        { downtimeMs: performance.now() - lost.lostAt, attempts: lost.failedAttempts + 1 },
        { workerId: this.#workerId, previousWorkerId: lost.workerId, attached: true, address: this.#address, pid },
      );
    }
  }

  /** A channel that leaves READY for TRANSIENT_FAILURE means the worker went away. */
  #watchChannel(): void {
    const channel = this.#client.getChannel();
    const watch = (current: grpc.connectivityState) => {
      if (this.#failure) return;
      if (current === grpc.connectivityState.TRANSIENT_FAILURE || current === grpc.connectivityState.SHUTDOWN) {
        this.fail(new WorkerError(`Lost the connection to worker ${this.#workerId}`, 'worker_crashed', { workerId: this.#workerId }));
        return;
      }
      channel.watchConnectivityState(current, Infinity, () => watch(channel.getConnectivityState(false)));
    };
    watch(channel.getConnectivityState(false));
  }
}
