/** The raw floor: Node <-> Python over the same pipes and msgpack, with no pool, worker or bridge. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { decode, encode } from '../src/transport/codec.js';
import { FrameReader, writeFrame } from '../src/transport/pipe/framing.js';

/** One raw echo process with many requests in flight, matched by id. */
export class RawEcho {
  readonly #child: ChildProcess;
  readonly #out: Writable;
  readonly #pending = new Map<number, (v: unknown) => void>();
  readonly #failures = new Map<number, (e: Error) => void>();
  readonly #chunks = new Map<number, (v: unknown) => void>();
  #nextId = 1;

  constructor(python: string, benchDir: string) {
    this.#child = spawn(python, [path.join(benchDir, 'python', 'raw_echo.py')], { stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'pipe'] });
    this.#out = this.#child.stdio[3] as Writable;
    // Killed from outside (a shared machine): fail the calls in flight instead of leaving them pending.
    this.#child.on('exit', (code, signal) => {
      for (const fail of this.#failures.values()) fail(new Error(`raw echo exited (${code ?? signal})`));
    });
    const reader = new FrameReader();
    (this.#child.stdio[4] as Readable).on('data', (chunk: Buffer) =>
      reader.push(chunk, (body) => {
        const msg = decode(body) as { t: string; id: number; value: unknown };
        if (msg.t === 'chunk') return this.#chunks.get(msg.id)?.(msg.value);
        this.#pending.get(msg.id)?.(msg.value);
        this.#pending.delete(msg.id);
        this.#failures.delete(msg.id);
        this.#chunks.delete(msg.id);
      }),
    );
  }

  call(value: unknown): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, resolve);
      this.#failures.set(id, reject);
      writeFrame(this.#out, encode({ t: 'call', id, tool: 'echo', args: { value }, session: null, meta: null, stream: false }));
    });
  }

  /** The streaming floor: Python writes `n` chunks `{ i, t }` (t = its time.time_ns()), then the end. */
  stream(n: number, onChunk: (chunk: unknown) => void): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, resolve);
      this.#failures.set(id, reject);
      this.#chunks.set(id, onChunk);
      writeFrame(this.#out, encode({ t: 'call', id, tool: 'stamped', args: { n }, session: null, meta: null, stream: true }));
    });
  }

  close(): void {
    this.#child.removeAllListeners('exit');
    this.#child.kill('SIGKILL');
  }
}
