/** The pipe transport: msgpack frames over the child's fds 3 (to Python) and 4 (from Python). */
import type { Readable, Writable } from 'node:stream';
import { ValidationError, WorkerError } from '../errors.js';
import { decode, encode, encodePayload, type PayloadOptions } from './codec.js';
import { removeShm } from './shm.js';
import { creditLink, type StreamFlow } from './stream-flow.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameReader, writeFrame } from './frame-reader.js';
import type { CallHandle, CallRequest, ChunkHandler, HostRequest, HostRequestHandler, ReadyInfo, Transport, WireError } from './types.js';
import { fatalErrorFromWire, pythonErrorFromWire, wireErrorFromError } from './wire-error.js';
import type { TelemetryControl, WirePythonEvent } from '../telemetry/python-events.js';

interface Pending {
  tool: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onChunk: ChunkHandler | undefined;
  /** Shared-memory files of the call's arguments: removed when the call ends. */
  shmFiles?: string[];
}

type InboundFrame =
  | ({ t: 'ready' } & ReadyInfo)
  | { t: 'fatal'; error: WireError }
  | { t: 'result'; id: number; value: unknown }
  | { t: 'chunk'; id: number; data: unknown; final: boolean }
  | { t: 'end'; id: number }
  | { t: 'error'; id: number; error: WireError }
  | { t: 'pong'; id: number }
  | { t: 'telemetry'; events: WirePythonEvent[] }
  | { t: 'host'; id: number; call: number | null; op: string; tool?: string; args?: Record<string, unknown>; timeout_ms?: number | null; action?: string; key?: string; value?: unknown };

export interface PipeTransportOptions {
  workerId: string;
  /** The child's fd 3: frames to Python. */
  output: Writable;
  /** The child's fd 4: frames from Python. */
  input: Readable;
  maxFrameBytes?: number;
  /** Answers Python's requests to the host; without it they fail with `host_unavailable`. */
  hostRequests?: HostRequestHandler | undefined;
  /** Receives Python's telemetry batches (`telemetry` frames). */
  onTelemetry?: ((events: WirePythonEvent[]) => void) | undefined;
  /** Shared memory for large arguments, payload limit. @default inline, no limit of its own */
  payload?: PayloadOptions | undefined;
}

/** One worker's pipe connection: many calls in flight, matched by id. */
export class PipeTransport implements Transport {
  readonly kind = 'pipe' as const;
  readonly ready: Promise<ReadyInfo>;
  #resolveReady!: (info: ReadyInfo) => void;
  #rejectReady!: (error: Error) => void;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #pings = new Map<number, () => void>();
  #failure: Error | undefined;
  readonly #output: Writable;
  readonly #workerId: string;
  readonly #reader: FrameReader;
  readonly #hostRequests: HostRequestHandler | undefined;
  #onFailure: ((error: Error) => void) | undefined;
  readonly #onTelemetry: ((events: WirePythonEvent[]) => void) | undefined;
  readonly #payload: PayloadOptions;
  /** Frames written in this tick wait in the corked stream; one writev sends them all. */
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#output.uncork();
  };

  constructor(options: PipeTransportOptions) {
    this.#workerId = options.workerId;
    this.#hostRequests = options.hostRequests;
    this.#onTelemetry = options.onTelemetry;
    this.#payload = options.payload ?? {};
    this.#output = options.output;
    this.#reader = new FrameReader(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
    this.ready = new Promise<ReadyInfo>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Nobody may await `ready` (e.g. a failed start already reported elsewhere): avoid unhandled rejections.
    this.ready.catch(() => {});
    options.input.on('data', (chunk: Buffer) => this.#onData(chunk));
    // EPIPE after the child died is reported through the worker's exit, not here.
    this.#output.on('error', () => {});
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  call(request: CallRequest, onChunk?: ChunkHandler, flow?: StreamFlow): CallHandle {
    const id = this.#nextId++;
    const result = new Promise<unknown>((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      let encoded;
      try {
        encoded = encodePayload({
          t: 'call',
          id,
          tool: request.tool,
          args: request.args,
          session: request.sessionId ?? null,
          meta: request.metadata ?? null,
          corr: request.correlationId ?? null,
          stream: onChunk !== undefined,
          ...(request.restore === undefined ? {} : { restore: request.restore }),
          // Flow control: Python sends at most `window` chunks beyond those granted by `credit` frames.
          ...(flow === undefined ? {} : { window: flow.highWaterMark }),
        }, this.#payload, 'args');
      } catch (error) {
        return reject(error as Error); // over maxPayloadBytes, a value that cannot cross: nothing was sent
      }
      this.#pending.set(id, { tool: request.tool, resolve, reject, onChunk, shmFiles: encoded.shmFiles });
      this.#write(encoded.body);
      if (flow) flow.attach(creditLink(flow, (n) => this.#pending.has(id) && !this.#failure && this.#send({ t: 'credit', id, n })));
    });
    return { id, result };
  }

  cancel(id: number): void {
    if (this.#pending.has(id)) this.#send({ t: 'cancel', id });
  }

  ping(timeoutMs: number): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        reject(new WorkerError(`Worker ${this.#workerId} did not answer a ping in ${timeoutMs} ms`, 'call_timeout', { workerId: this.#workerId }));
      }, timeoutMs);
      this.#pings.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.#send({ t: 'ping', id });
    });
  }

  shutdown(): void {
    if (!this.#failure) this.#send({ t: 'shutdown' });
  }

  /** Changes Python's telemetry sampling/filters (a `telemetry_control` frame); nothing restarts. */
  telemetryControl(control: TelemetryControl): void {
    if (!this.#failure) this.#send({ t: 'telemetry_control', ...control });
  }

  cleanupSession(sessionId: string): Promise<void> {
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      this.#pending.set(id, { tool: 'cleanup_session', resolve: () => resolve(), reject, onChunk: undefined });
      this.#send({ t: 'session_cleanup', id, session: sessionId });
    });
  }

  /** Called once when the connection fails for good (a bad frame, or `fail()`). */
  onFailure(listener: (error: Error) => void): void {
    this.#onFailure = listener;
  }

  fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#onFailure?.(error);
    this.#rejectReady(error);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      releaseShm(p);
      p.reject(error);
    }
    this.#pings.clear();
  }

  #send(message: Record<string, unknown>): void {
    this.#write(encode(message));
  }

  /**
   * Writes one frame. The stream stays corked until the end of the tick, so the frames of one
   * tick (calls a burst of results freed, a call and its cancel) leave in one writev: each write
   * to a pipe whose reader sleeps costs a wake-up, the largest part of the host's CPU per call.
   * Order is kept (one stream, one queue).
   */
  #write(body: Buffer): void {
    if (!this.#corked) {
      this.#corked = true;
      this.#output.cork();
      process.nextTick(this.#uncork);
    }
    writeFrame(this.#output, body);
  }

  #onData(chunk: Buffer): void {
    if (this.#failure) return;
    try {
      this.#reader.push(chunk, (body) => this.#onFrame(decode(body) as InboundFrame));
    } catch (error) {
      this.fail(new WorkerError(`Worker ${this.#workerId} sent a malformed frame: ${(error as Error).message}`, 'protocol_error', { workerId: this.#workerId }, error));
    }
  }

  #onFrame(frame: InboundFrame): void {
    switch (frame.t) {
      case 'result': {
        const p = this.#take(frame.id);
        if (p?.onChunk) {
          // A tool that does not stream, called as a stream: its value is the one, final chunk (as over gRPC).
          p.onChunk(frame.value, true);
          p.resolve(undefined);
        } else p?.resolve(frame.value);
        return;
      }
      case 'chunk':
        this.#pending.get(frame.id)?.onChunk?.(frame.data, frame.final);
        return;
      case 'end':
        this.#take(frame.id)?.resolve(undefined);
        return;
      case 'error': {
        const pending = this.#pending.get(frame.id);
        if (!pending) return;
        // Built before the call leaves the table: a malformed error map fails the connection, and
        // that must still reach this call.
        const error = pythonErrorFromWire(frame.error, pending.tool);
        this.#take(frame.id)?.reject(error);
        return;
      }
      case 'pong':
        this.#pings.get(frame.id)?.();
        this.#pings.delete(frame.id);
        return;
      case 'ready': {
        const { t: _t, ...info } = frame;
        this.#resolveReady(info);
        return;
      }
      case 'fatal':
        this.fail(fatalErrorFromWire(frame.error, this.#workerId));
        return;
      case 'host':
        this.#answerHost(frame);
        return;
      case 'telemetry':
        this.#onTelemetry?.(frame.events);
        return;
      default:
        throw new Error(`unknown frame type ${String((frame as { t: unknown }).t)}`);
    }
  }

  /** Runs Python's host request and writes `host_reply`; a dead worker's late replies are dropped. */
  #answerHost(frame: Extract<InboundFrame, { t: 'host' }>): void {
    const reply = (body: Record<string, unknown>) => {
      if (!this.#failure) this.#send({ t: 'host_reply', id: frame.id, ...body });
    };
    const request = hostRequestFromFrame(frame);
    const handler = this.#hostRequests;
    const answer = !handler
      ? Promise.reject(new WorkerError('This worker has no host to call', 'host_unavailable', { workerId: this.#workerId }))
      : request
        ? Promise.resolve().then(() => handler(request))
        : Promise.reject(new ValidationError(`Unknown host request op '${String(frame.op)}'`, 'invalid_argument', { op: frame.op }));
    answer.then(
      (value) => reply({ value: value ?? null }),
      (error: unknown) => reply({ error: wireErrorFromError(error) }),
    );
  }

  #take(id: number): Pending | undefined {
    const p = this.#pending.get(id);
    if (p) {
      this.#pending.delete(id);
      releaseShm(p);
    }
    return p;
  }
}

function releaseShm(p: Pending): void {
  for (const name of p.shmFiles ?? []) removeShm(name);
}

const STATE_ACTIONS = new Set(['get_all', 'set', 'delete', 'clear']);

function hostRequestFromFrame(frame: Extract<InboundFrame, { t: 'host' }>): HostRequest | undefined {
  const callId = typeof frame.call === 'number' ? frame.call : undefined;
  switch (frame.op) {
    case 'call':
      return { op: 'call', callId, tool: String(frame.tool), args: frame.args ?? {}, timeoutMs: frame.timeout_ms ?? undefined };
    case 'list':
      return { op: 'list', callId };
    case 'state':
      if (!STATE_ACTIONS.has(String(frame.action))) return undefined;
      return { op: 'state', callId, action: frame.action as 'get_all', key: frame.key, value: frame.value };
    default:
      return undefined;
  }
}
