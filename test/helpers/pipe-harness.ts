// A pipe transport on in-memory pipes, for unit tests of the pipe protocol: the test writes the worker's frames and
// reads what the host sent.
import { PassThrough } from 'node:stream';
import type { WirePythonEvent } from '../../src/telemetry/python-events.js';
import { decode, encode } from '../../src/transport/codec.js';
import { FrameReader } from '../../src/transport/pipe/framing.js';
import { PipeLink } from '../../src/transport/pipe/pipe-link.js';
import { PipeTransport } from '../../src/transport/pipe/pipe-transport.js';
import type { TransportEvents } from '../../src/transport/types.js';
import { transportCalls } from './transport-calls.js';

/** One frame as a worker writes it: a 4-byte big-endian length, then the msgpack body. */
export function workerFrame(value: unknown): Buffer {
  const body = encode(value);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
}

export interface PipeHarnessOptions {
  /** The link's telemetry fold (what `telemetry` frames, and events a result carried, are handed to). */
  onTelemetry?: (events: WirePythonEvent[]) => void;
  /** Wraps the events the transport reports to (e.g. to note when a call ended). */
  wrapEvents?: (events: TransportEvents) => TransportEvents;
}

/** A transport whose worker said `ready` with `protocol`; `input` takes the worker's frames, `sent()` waits for the next frame the host wrote. */
export async function pipeHarness(protocol: number, options: PipeHarnessOptions = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const written: unknown[] = [];
  const waiters: (() => void)[] = [];
  const reader = new FrameReader();
  output.on('data', (chunk: Buffer) =>
    reader.push(chunk, (body) => {
      written.push(decode(body));
      waiters.shift()?.();
    }),
  );
  const link = new PipeLink({ workerId: 'w-harness', input, output, onTelemetry: options.onTelemetry });
  const calls = transportCalls();
  const transport = new PipeTransport(link, options.wrapEvents ? options.wrapEvents(calls.events) : calls.events);
  input.write(workerFrame({ t: 'ready', protocol, pid: 1, adapter: 'a', tools: [], python: '3', concurrency: 1 }));
  await link.ready;
  const sent = async (): Promise<unknown> => {
    if (written.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
    return written.shift();
  };
  return { input, transport, calls, sent };
}
