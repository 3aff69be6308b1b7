/** The pipe transport: a pipe worker's calls, pings and host requests over its `PipeLink`. */
import { ValidationError, WorkerError } from '../../errors.js';
import type { TelemetryControl } from '../../telemetry/python-events.js';
import { checkPayloadLimit, encodePayload, NO_FILES, packInPlace, type EncodedPayload, type PayloadOptions } from '../codec.js';
import { removeShm } from '../shm.js';
import { creditLink } from '../stream-flow.js';
import type { BatchCall, HostRequest, HostRequestHandler, OutgoingCall, ReadyInfo, Transport, TransportEvents } from '../types.js';
import { itemErrorsFromWire, pythonErrorFromWire, wireErrorFromError } from '../wire-error.js';
import { carriedCallEvents } from './call-times.js';
import { COMPACT_ARGS_COPY_LIMIT, CompactCall, encodeCompactCallParts } from './compact-call.js';
import type { CompactCallTimes, HostFrame, WorkerFrame } from './frames.js';
import type { CallFrame, PipeLink } from './pipe-link.js';

type HostFrameIn = Extract<WorkerFrame, { t: 'host' }>;

export interface PipeTransportOptions {
  /** Answers Python's requests to the host; without it they fail with `host_unavailable`. */
  hostRequests?: HostRequestHandler | undefined;
  /** Shared memory for large arguments, payload limit. @default inline, no limit of its own */
  payload?: PayloadOptions | undefined;
}

/** An encoded call: its body whole, in parts (`PipeLink.writeParts`) or a compact call to write, and its shared-memory files. */
type OutgoingFrame = Omit<EncodedPayload, 'body'> & { body: Buffer | CompactCall | readonly Buffer[] };

/** One worker's calls over its pipes: many in flight, matched by id. */
export class PipeTransport implements Transport {
  readonly #link: PipeLink;
  readonly #events: TransportEvents;
  readonly #hostRequests: HostRequestHandler | undefined;
  readonly #payload: PayloadOptions;
  /** `#payload` without the size limit: a compact call's args are encoded first and the whole frame checked after. */
  readonly #argsPayload: PayloadOptions;
  #nextId = 1;
  /** The worker reads compact calls (its `ready` says protocol 2 or more). */
  #compact = false;
  /** The calls sent and not ended, by id. */
  readonly #pending = new Map<number, OutgoingCall>();
  /** Shared-memory files of calls' arguments (only calls that have some): removed when the call ends. */
  readonly #shmFiles = new Map<number, string[]>();
  /** Pings and session cleanups: round trips answered by id like calls. */
  readonly #roundTrips = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(link: PipeLink, events: TransportEvents, options: PipeTransportOptions = {}) {
    this.#link = link;
    this.#events = events;
    this.#hostRequests = options.hostRequests;
    this.#payload = options.payload ?? {};
    this.#argsPayload = { zeroCopy: this.#payload.zeroCopy };
    link.readCalls(
      (frame) => this.#onFrame(frame),
      (id, value, times) => this.#result(id, value, times),
    );
    link.onFailure((error) => this.#failAll(error));
    // Registered before anyone can await `ready`: calls go out compact from the first one.
    link.ready.then(
      (info) => (this.#compact = info.protocol >= 2),
      () => {},
    );
  }

  get ready(): Promise<ReadyInfo> {
    return this.#link.ready;
  }

  call(call: OutgoingCall): number {
    const id = this.#nextId++;
    const failure = this.#link.failure;
    if (failure) {
      this.#endLater(id, failure);
      return id;
    }
    let encoded: OutgoingFrame;
    try {
      // A value that cannot cross fails the call, named under its args; so does one over maxPayloadBytes, or /dev/shm full: nothing was sent.
      encoded = this.#compact && isPlain(call) ? this.#compactCall(id, call) : encodePayload(call.batch ? batchFrame(id, call, call.batch) : callFrame(id, call), this.#payload, 'args');
    } catch (error) {
      this.#endLater(id, error as Error);
      return id;
    }
    this.#pending.set(id, call);
    if (encoded.shmFiles.length > 0) this.#shmFiles.set(id, encoded.shmFiles);
    const { body } = encoded;
    if (Array.isArray(body)) this.#link.writeParts(body);
    else this.#link.write(body as Buffer | CompactCall);
    const flow = call.flow;
    // Flow control: Python sends at most `window` chunks beyond those granted by `credit` frames.
    if (flow) flow.attach(creditLink(flow, (n) => this.#pending.has(id) && this.#link.send({ t: 'credit', id, n })));
    return id;
  }

  /** The frame of a call with nothing else to say (`isPlain`): compact (compact-call.ts). */
  #compactCall(id: number, call: OutgoingCall): OutgoingFrame {
    const seq = call.correlationSeq ?? 0; // a made id is written from its number: its string is not made (correlation-id.ts)
    const corr = seq > 0 ? undefined : call.correlationId;
    // `[args]` stands for the frame: the same nesting depth, and a bad value's path named from the args.
    // Without zero-copy (the default) nothing goes to shared memory, and the args stay where the
    // encoder wrote them until the tick's frames are written (no buffer of their own).
    const args = this.#argsPayload.zeroCopy ? encodePayload([call.args], this.#argsPayload, 0) : undefined;
    let bytes: Buffer;
    let start = 0;
    let end: number;
    if (args) {
      bytes = args.body;
      end = bytes.length;
    } else {
      const packed = packInPlace([call.args], 0);
      bytes = packed;
      start = packed.start;
      end = packed.end;
    }
    let body: CompactCall | Buffer[];
    let bodyBytes: number;
    if (end - start > COMPACT_ARGS_COPY_LIMIT) {
      // Large args are not copied again: the frame leaves in parts around them.
      const parts = encodeCompactCallParts(id, call.tool, bytes.subarray(start, end), seq, corr);
      body = parts;
      bodyBytes = parts[0]!.length + parts[1]!.length + parts[2]!.length;
    } else {
      body = new CompactCall(id, call.tool, bytes, start, end, seq, corr);
      bodyBytes = body.length;
    }
    const shmBytes = args?.shmBytes ?? 0;
    try {
      checkPayloadLimit(bodyBytes + shmBytes, this.#payload);
    } catch (error) {
      for (const name of args?.shmFiles ?? NO_FILES) removeShm(name);
      throw error;
    }
    return { body, shmFiles: args?.shmFiles ?? NO_FILES, shmBytes };
  }

  cancel(id: number): void {
    if (this.#pending.has(id)) this.#link.send({ t: 'cancel', id });
  }

  recall(id: number): void {
    if (this.#pending.has(id)) this.#link.send({ t: 'recall', id });
  }

  ping(timeoutMs: number): Promise<void> {
    const failure = this.#link.failure;
    if (failure) return Promise.reject(failure);
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#roundTrips.delete(id);
        reject(new WorkerError(`Worker ${this.#link.workerId} did not answer a ping in ${timeoutMs} ms`, 'call_timeout', { workerId: this.#link.workerId }));
      }, timeoutMs);
      this.#roundTrips.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#link.send({ t: 'ping', id });
    });
  }

  cleanupSession(sessionId: string): Promise<void> {
    const failure = this.#link.failure;
    if (failure) return Promise.reject(failure);
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      this.#roundTrips.set(id, { resolve, reject });
      this.#link.send({ t: 'session_cleanup', id, session: sessionId });
    });
  }

  /** A `telemetry_control` frame: the calls sent after it follow it in order, so it applies at once. */
  configureTelemetry(control: TelemetryControl): Promise<unknown> {
    // callTimes: this host reads a call's times in its compact result (call-times.ts).
    this.#link.send({ t: 'telemetry_control', ...control, callTimes: true });
    return Promise.resolve();
  }

  stopping(): void {}

  fail(error: Error): void {
    this.#link.fail(error);
  }

  /** A call that could not be sent still ends through `ended`, after `call()` returned its id. */
  #endLater(id: number, error: Error): void {
    queueMicrotask(() => this.#events.ended(id, false, error));
  }

  #failAll(error: Error): void {
    const ids = [...this.#pending.keys()];
    for (const id of ids) this.#end(id, false, error);
    const roundTrips = [...this.#roundTrips.values()];
    this.#roundTrips.clear();
    for (const r of roundTrips) r.reject(error);
  }

  /** Removes call `id` (and its argument files) and reports its end. */
  #end(id: number, ok: boolean, outcome: unknown): void {
    if (!this.#pending.delete(id)) return;
    this.#removeShmFiles(id);
    this.#events.ended(id, ok, outcome);
  }

  #removeShmFiles(id: number): void {
    if (this.#shmFiles.size === 0) return;
    for (const name of this.#shmFiles.get(id) ?? []) removeShm(name);
    this.#shmFiles.delete(id);
  }

  #onFrame(frame: CallFrame): void {
    switch (frame.t) {
      case 'result':
        return this.#result(frame.id, frame.value);
      case 'chunk':
        this.#pending.get(frame.id)?.chunk(frame.data, frame.final, frame.metadata);
        return;
      case 'items': {
        const call = this.#pending.get(frame.id);
        call?.batch?.results(frame.values, itemErrorsFromWire(frame.errors, call.tool));
        return;
      }
      case 'end':
        this.#end(frame.id, true, undefined);
        return;
      case 'error': {
        const call = this.#pending.get(frame.id);
        if (call) {
          // Built before the call leaves the table: a malformed error map fails the link, and
          // that must still reach this call.
          this.#end(frame.id, false, pythonErrorFromWire(frame.error, call.tool));
          return;
        }
        // A session cleanup's failure (pings never fail in Python).
        const roundTrip = this.#roundTrips.get(frame.id);
        this.#roundTrips.delete(frame.id);
        roundTrip?.reject(pythonErrorFromWire(frame.error, 'cleanup_session'));
        return;
      }
      case 'pong':
        return this.#answered(frame.id);
      case 'recalled': {
        if (!frame.returned) {
          if (this.#pending.has(frame.id)) this.#events.kept(frame.id); // it had started: it ends as usual
          return;
        }
        if (!this.#pending.delete(frame.id)) return;
        this.#removeShmFiles(frame.id);
        this.#events.returned(frame.id);
        return;
      }
      case 'host':
        this.#answerHost(frame);
    }
  }

  /** A `result` frame, in either form (`times`: a compact result's call times, published before the call ends, as a `telemetry` frame before it would be). */
  #result(id: number, value: unknown, times?: CompactCallTimes): void {
    const call = this.#pending.get(id);
    if (times && call) this.#link.publishTelemetry(carriedCallEvents(call, times));
    if (!call) return this.#answered(id);
    // A tool that does not stream, called as a stream: its value is the one, final chunk (as over gRPC).
    if (call.streaming) {
      call.chunk(value, true);
      this.#end(id, true, undefined);
    } else this.#end(id, true, value);
  }

  /** A ping's pong or a session cleanup's result. */
  #answered(id: number): void {
    this.#roundTrips.get(id)?.resolve();
    this.#roundTrips.delete(id);
  }

  /** Runs Python's host request and writes `host_reply`; a dead worker's late replies are dropped. */
  #answerHost(frame: HostFrameIn): void {
    const request = hostRequestFromFrame(frame);
    const handler = this.#hostRequests;
    const answer = !handler
      ? Promise.reject(new WorkerError('This worker has no host to call', 'host_unavailable', { workerId: this.#link.workerId }))
      : request
        ? Promise.resolve().then(() => handler(request))
        : Promise.reject(new ValidationError(`Unknown host request op '${String(frame.op)}'`, 'invalid_argument', { op: frame.op }));
    answer.then(
      (value) => this.#link.send({ t: 'host_reply', id: frame.id, value: value ?? null }),
      (error: unknown) => this.#link.send({ t: 'host_reply', id: frame.id, error: wireErrorFromError(error) }),
    );
  }
}

/** A call a compact frame carries whole: no session, metadata, stream, restore or batch. */
function isPlain(call: OutgoingCall): boolean {
  return call.sessionId === undefined && call.metadata === undefined && !call.streaming && call.restore === undefined && call.flow === undefined && call.batch === undefined;
}

/** A `call` frame with only the keys that say something: fewer keys to encode here and to decode in Python. */
function callFrame(id: number, call: OutgoingCall): HostFrame {
  const frame: Extract<HostFrame, { t: 'call' }> = { t: 'call', id, tool: call.tool, args: call.args };
  if (call.correlationId !== undefined) frame.corr = call.correlationId;
  if (call.sessionId !== undefined) frame.session = call.sessionId;
  if (call.metadata !== undefined) frame.meta = call.metadata;
  if (call.streaming) frame.stream = true;
  if (call.restore !== undefined) frame.restore = call.restore;
  if (call.flow !== undefined) frame.window = call.flow.highWaterMark;
  return frame;
}

/** A batch's frame (`sp.map`): its inputs in place of `args`; no stream, no window. */
function batchFrame(id: number, call: OutgoingCall, batch: BatchCall): HostFrame {
  return {
    t: 'batch',
    id,
    tool: call.tool,
    items: batch.inputs(),
    fail_fast: batch.failFast,
    session: call.sessionId ?? null,
    meta: call.metadata ?? null,
    corr: call.correlationId ?? null,
    ...(call.restore === undefined ? {} : { restore: call.restore }),
  };
}

const STATE_ACTIONS = new Set(['get_all', 'set', 'delete', 'clear']);

function hostRequestFromFrame(frame: HostFrameIn): HostRequest | undefined {
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
