/**
 * The host's end of `BridgeService.HostStream`: a stream the host opens on its own connection to a
 * worker, on which Python's requests to the host (host tools, their list, session state) and its
 * telemetry travel, so a remote worker never has to reach the host's address. The worker's first
 * message names the stream; calls carry that name (`x-snakepit-host-stream`) and Python sends
 * their requests here. Requests are answered by the worker's own handler, which takes the session
 * from the call each request names: the same scoping as over `HostService`.
 */
import * as grpc from '@grpc/grpc-js';
import { ValidationError, WorkerError } from '../../errors.js';
import { foldGrpcTelemetry, type TelemetryEventMessage } from '../../telemetry/grpc-telemetry.js';
import { encode } from '../codec.js';
import type { HostRequest, HostRequestHandler } from '../types.js';
import { callIdOf, callRequest, stateRequest, toSpecMessage, type HostToolCallMessage, type HostToolWireSpec, type SessionStateMessage } from './host-messages.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './proto.js';
import { errorFromStatus, infoFromError } from './status.js';

/** `HostStreamRequest` as proto-loader decodes it (`oneofs: true`). */
interface StreamRequestMessage {
  request_id: number;
  request?: 'opened' | 'call' | 'list' | 'state' | 'telemetry';
  opened?: { stream_id: string };
  call?: HostToolCallMessage;
  list?: { call_id: number };
  state?: SessionStateMessage;
  telemetry?: { events: TelemetryEventMessage[] };
}

type Duplex = grpc.ClientDuplexStream<object, StreamRequestMessage>;

/** What opening a stream takes. */
export interface HostStreamOptions {
  workerId: string;
  address: string;
  /** Answers the worker's requests (the worker's host bridge). */
  handler: HostRequestHandler;
  /** Whose telemetry arrives here (the pool's own id for the worker, not what Python claims). */
  identity: { id: string; pool: string };
  /** The worker's token and any other headers of the connection. */
  metadata: grpc.Metadata;
  /** How long the worker may take to say the stream is open. */
  timeoutMs: number;
}

/** One open `HostStream`. Open with `HostStream.open()`. */
export class HostStream {
  #closed = false;

  private constructor(
    /** The name calls carry so the worker sends their host requests here. */
    readonly id: string,
    readonly call: Duplex,
    readonly options: HostStreamOptions,
  ) {
    call.on('data', (message: StreamRequestMessage) => this.#received(message));
    call.on('error', () => {}); // the end of the stream: the connection's own watch reports a loss
  }

  /**
   * Opens the stream on `client` and waits for the worker's `opened`. Resolves undefined when the
   * worker predates the stream (UNIMPLEMENTED): it keeps the dial-back path.
   */
  static open(client: grpc.Client & Record<string, unknown>, options: HostStreamOptions): Promise<HostStream | undefined> {
    const open = client.HostStream as (metadata: grpc.Metadata) => Duplex;
    const call = open.call(client, options.metadata);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        call.cancel();
        reject(new WorkerError(`Worker ${options.workerId} did not open its host stream within ${options.timeoutMs} ms`, 'worker_start_failed', { workerId: options.workerId, address: options.address }));
      }, options.timeoutMs);
      const onData = (message: StreamRequestMessage) => {
        done();
        if (message.request === 'opened' && message.opened?.stream_id) return resolve(new HostStream(message.opened.stream_id, call, options));
        call.cancel();
        reject(new WorkerError(`Worker ${options.workerId} began its host stream with ${String(message.request)}, not opened`, 'protocol_error', { workerId: options.workerId }));
      };
      const onError = (error: grpc.ServiceError) => {
        done();
        if (error.code === grpc.status.UNIMPLEMENTED) return resolve(undefined);
        reject(errorFromStatus(error, { workerId: options.workerId, address: options.address, rpc: 'HostStream' }));
      };
      const done = () => {
        clearTimeout(timer);
        call.off('data', onData);
        call.off('error', onError);
      };
      call.on('data', onData);
      call.on('error', onError);
    });
  }

  /** Ends the stream (the worker's requests still waiting fail there with `host_unavailable`). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.call.cancel();
  }

  #received(message: StreamRequestMessage): void {
    if (message.request === 'telemetry') {
      for (const event of message.telemetry?.events ?? []) foldGrpcTelemetry(event, this.options.identity);
      return;
    }
    const id = message.request_id;
    let request: HostRequest | undefined;
    try {
      request = toRequest(message);
    } catch (error) {
      return this.#answer(id, { error: infoFromError(new ValidationError(`Undecodable host request: ${(error as Error).message}`, 'invalid_argument')) });
    }
    if (!request) return this.#answer(id, { error: infoFromError(new ValidationError('Unknown host request', 'invalid_argument')) });
    const list = request.op === 'list';
    Promise.resolve()
      .then(() => this.options.handler(request))
      .then(
        (value) => this.#answer(id, list ? { tools: { tools: (value as HostToolWireSpec[]).map(toSpecMessage) } } : { value: encode(value ?? null) }),
        (error: unknown) => this.#answer(id, { error: infoFromError(error) }),
      );
  }

  #answer(requestId: number, answer: { value: Buffer } | { error: ReturnType<typeof infoFromError> } | { tools: object }): void {
    if (this.#closed) return;
    // One message over the limit would end the stream for every call: refuse this answer alone.
    if ('value' in answer && answer.value.length > DEFAULT_MAX_MESSAGE_BYTES - 1024) {
      const error = new ValidationError(`Host answer of ${answer.value.length} bytes is over the gRPC message limit`, 'payload_too_large', { bytes: answer.value.length });
      answer = { error: infoFromError(error) };
    }
    this.call.write({ request_id: requestId, ...answer });
  }
}

function toRequest(message: StreamRequestMessage): HostRequest | undefined {
  switch (message.request) {
    case 'call':
      return callRequest(message.call!);
    case 'list':
      return { op: 'list', callId: callIdOf(message.list!.call_id) };
    case 'state':
      return stateRequest(message.state!);
    default:
      return undefined;
  }
}
