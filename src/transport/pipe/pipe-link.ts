/**
 * The host's end of a spawned worker's pipes (fd 3 to Python, fd 4 from it): typed frames out,
 * frames in, the `ready`/`fatal` handshake, telemetry batches, and failure. A pipe worker's
 * transport runs its calls over it; for a spawned gRPC worker it carries only the life cycle.
 */
import type { Readable, Writable } from 'node:stream';
import { WorkerError } from '../../errors.js';
import type { WirePythonEvent } from '../../telemetry/python-events.js';
import { decodeRange, encode } from '../codec.js';
import type { ReadyInfo } from '../types.js';
import { fatalErrorFromWire } from '../wire-error.js';
import type { CompactCall } from './compact-call.js';
import { COMPACT, type CompactCallTimes, type CompactResult, type HostFrame, type WorkerFrame } from './frames.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameBatch, FrameReader } from './framing.js';

/** The frames a link hands on: those about calls, pings and host requests. */
export type CallFrame = Exclude<WorkerFrame, { t: 'ready' | 'fatal' | 'telemetry' }>;

export interface PipeLinkOptions {
  workerId: string;
  /** The child's fd 3: frames to Python. */
  output: Writable;
  /** The child's fd 4: frames from Python. */
  input: Readable;
  maxFrameBytes?: number;
  /** Receives Python's telemetry batches (`telemetry` frames). */
  onTelemetry?: ((events: WirePythonEvent[]) => void) | undefined;
}

/** One worker's pipes. `ready` settles once; `fail` ends the link for good. */
export class PipeLink {
  readonly ready: Promise<ReadyInfo>;
  readonly workerId: string;
  #resolveReady!: (info: ReadyInfo) => void;
  #rejectReady!: (error: Error) => void;
  #failure: Error | undefined;
  readonly #output: Writable;
  readonly #reader: FrameReader;
  readonly #onTelemetry: ((events: WirePythonEvent[]) => void) | undefined;
  readonly #failureListeners: ((error: Error) => void)[] = [];
  /** The call frames' reader (the pipe transport); a gRPC worker's link has none. */
  #onCallFrame: ((frame: CallFrame) => void) | undefined;
  /** The reader of compact results (`[1, id, value]`, frames.ts). */
  #onResult: ((id: number, value: unknown, times: CompactCallTimes | undefined) => void) | undefined;
  /** Frames written in this tick, sent together at its end. */
  readonly #batch = new FrameBatch();
  readonly #flush = (): void => this.#batch.flush(this.#output);
  readonly #decodeFrame = (data: Buffer, start: number, end: number): void => this.#onFrame(decodeRange(data, start, end) as WorkerFrame | CompactResult);

  constructor(options: PipeLinkOptions) {
    this.workerId = options.workerId;
    this.#onTelemetry = options.onTelemetry;
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

  /** Why the link failed; undefined while it works. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Routes call, pong and host frames to `reader` (the pipe transport), compact results to `onResult` (`times`: the frame, when it carries its call's times). */
  readCalls(reader: (frame: CallFrame) => void, onResult: (id: number, value: unknown, times: CompactCallTimes | undefined) => void): void {
    this.#onCallFrame = reader;
    this.#onResult = onResult;
  }

  /** Publishes Python events the transport made from a call's answer, as if they came in a `telemetry` frame. */
  publishTelemetry(events: WirePythonEvent[]): void {
    this.#onTelemetry?.(events);
  }

  /** Called once when the link fails for good (a bad frame, or `fail()`). */
  onFailure(listener: (error: Error) => void): void {
    this.#failureListeners.push(listener);
  }

  /** Sends one frame; dropped once the link failed. */
  send(frame: HostFrame): void {
    if (!this.#failure) this.write(encode(frame));
  }

  /**
   * Writes one encoded frame body. Frames wait until the end of the tick, so the frames of one
   * tick (calls a burst of results freed, a call and its cancel) leave in one write: each write
   * to a pipe whose reader sleeps costs a wake-up, the largest part of the host's CPU per call.
   * They are copied into one buffer (FrameBatch), not queued in the stream one by one. Order is
   * kept (one stream, one queue). A compact call is written there from its args (compact-call.ts).
   */
  write(body: Buffer | CompactCall): void {
    if (this.#batch.size === 0) process.nextTick(this.#flush);
    this.#batch.add(body);
  }

  /** `write` of one frame whose body is the concatenation of `parts` (a large middle part is not copied). */
  writeParts(parts: readonly Buffer[]): void {
    if (this.#batch.size === 0) process.nextTick(this.#flush);
    this.#batch.addParts(parts);
  }

  fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#rejectReady(error);
    for (const listener of this.#failureListeners) listener(error);
  }

  #onData(chunk: Buffer): void {
    if (this.#failure) return;
    try {
      this.#reader.pushRanges(chunk, this.#decodeFrame);
    } catch (error) {
      this.fail(new WorkerError(`Worker ${this.workerId} sent a malformed frame: ${(error as Error).message}`, 'protocol_error', { workerId: this.workerId }, error));
    }
  }

  #onFrame(frame: WorkerFrame | CompactResult): void {
    if (Array.isArray(frame)) {
      // The compact result (frames.ts): nearly every call's answer.
      if (frame[0] !== COMPACT.result || typeof frame[1] !== 'number') throw new Error('malformed compact frame');
      if (!this.#onResult) throw new Error("unexpected 'result' frame from a gRPC worker's pipes");
      if (frame.length === 3) return this.#onResult(frame[1], frame[2], undefined);
      if (frame.length !== 6 || typeof frame[3] !== 'number' || typeof frame[5] !== 'number' || (typeof frame[4] !== 'number' && typeof frame[4] !== 'bigint')) {
        throw new Error('malformed compact frame');
      }
      this.#onResult(frame[1], frame[2], frame);
      return;
    }
    switch (frame.t) {
      case 'ready': {
        const { t: _t, ...info } = frame;
        this.#resolveReady(info);
        return;
      }
      case 'fatal':
        this.fail(fatalErrorFromWire(frame.error, this.workerId));
        return;
      case 'telemetry':
        this.#onTelemetry?.(frame.events);
        return;
      case 'result':
      case 'chunk':
      case 'items':
      case 'end':
      case 'error':
      case 'pong':
      case 'recalled':
      case 'host':
        if (!this.#onCallFrame) throw new Error(`unexpected '${frame.t}' frame from a gRPC worker's pipes`);
        this.#onCallFrame(frame);
        return;
      default:
        throw new Error(`unknown frame type ${String((frame as { t: unknown }).t)}`);
    }
  }
}
