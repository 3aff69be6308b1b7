/**
 * Where forked workers connect back to the host: a Unix socket (0600, in the run's 0700 folder) on
 * which each forked child opens its three streams — protocol, stdout, stderr — each starting with
 * the one-time token of its fork request. Node cannot hand a running process new file descriptors,
 * so the child brings its own: a socket is full duplex and ordered like the two pipes of a spawned
 * worker, and it closes when either side dies, as they do.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import { TimeoutError } from '../errors.js';

/** The hello: a 32-character token, then one byte naming the stream (python/snakepit_bridge/fork_child.py). */
const TOKEN_CHARS = 32;
const HELLO_BYTES = TOKEN_CHARS + 1;
const ROLES = { p: 'proto', o: 'stdout', e: 'stderr' } as const;
/** A connection that has not said who it is within this time is dropped. */
const HELLO_TIMEOUT_MS = 5_000;

/** A forked child's streams: `proto` carries the frames both ways; stdout and stderr are its logs. */
export interface ForkedStreams {
  proto: net.Socket;
  stdout: net.Socket;
  stderr: net.Socket;
}

interface Awaited {
  streams: Partial<ForkedStreams>;
  resolve(streams: ForkedStreams): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** One expected child: its token for the fork request, and its streams once all three arrived. */
export interface Expected {
  token: string;
  streams: Promise<ForkedStreams>;
  /** Gives up on this child: its streams (any that came) are closed and `streams` rejects with `error`. */
  cancel(error: Error): void;
}

/** The listening socket of one pool's forked workers. */
export class ForkServer {
  readonly #server: net.Server;
  readonly #expected = new Map<string, Awaited>();

  private constructor(
    readonly path: string,
    server: net.Server,
  ) {
    this.#server = server;
  }

  /** Listens on `path` (a fresh name in a private folder) and makes it 0600. */
  static async listen(path: string): Promise<ForkServer> {
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    const fork = new ForkServer(path, server);
    server.on('connection', (socket) => fork.#accept(socket));
    return fork;
  }

  /** A new token; `streams` resolves once its child opened all three, rejects after `timeoutMs`. */
  expect(timeoutMs: number): Expected {
    const token = randomBytes(TOKEN_CHARS / 2).toString('hex');
    let awaited!: Awaited;
    const streams = new Promise<ForkedStreams>((resolve, reject) => {
      const timer = setTimeout(
        () => this.#drop(token, new TimeoutError(`A forked worker did not connect within ${timeoutMs} ms`, 'startup_timeout', timeoutMs)),
        timeoutMs,
      );
      awaited = { streams: {}, resolve, reject, timer };
    });
    streams.catch(() => {}); // the forker may fail the start for another reason first
    this.#expected.set(token, awaited);
    return { token, streams, cancel: (error) => this.#drop(token, error) };
  }

  /** Stops listening, fails every child still expected with `error`, and removes the socket file. */
  close(error: Error): Promise<void> {
    for (const token of [...this.#expected.keys()]) this.#drop(token, error);
    return new Promise<void>((resolve) => {
      this.#server.close(() => {
        rmSync(this.path, { force: true });
        resolve();
      });
    });
  }

  #drop(token: string, error: Error): void {
    const awaited = this.#expected.get(token);
    if (!awaited) return;
    this.#expected.delete(token);
    clearTimeout(awaited.timer);
    for (const socket of Object.values(awaited.streams)) socket.destroy();
    awaited.reject(error);
  }

  #accept(socket: net.Socket): void {
    socket.on('error', () => {}); // a child that dies mid-hello; after the hello its owner listens
    const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
    const onReadable = () => {
      const hello = socket.read(HELLO_BYTES) as Buffer | null;
      if (hello === null) return; // fewer bytes so far
      socket.off('readable', onReadable);
      clearTimeout(timer);
      const awaited = this.#expected.get(hello.toString('latin1', 0, TOKEN_CHARS));
      const role = ROLES[hello.toString('latin1', TOKEN_CHARS) as keyof typeof ROLES] as keyof ForkedStreams | undefined;
      // Anything after the hello (a frame already sent) stays buffered for the stream's reader.
      if (!awaited || !role || awaited.streams[role]) return void socket.destroy();
      awaited.streams[role] = socket;
      const { proto, stdout, stderr } = awaited.streams;
      if (!proto || !stdout || !stderr) return;
      this.#expected.delete(hello.toString('latin1', 0, TOKEN_CHARS));
      clearTimeout(awaited.timer);
      awaited.resolve({ proto, stdout, stderr });
    };
    socket.on('readable', onReadable);
    socket.once('close', () => clearTimeout(timer));
  }
}
