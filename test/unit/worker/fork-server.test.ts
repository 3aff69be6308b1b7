// The fork socket: a child's three streams matched by their one-time token; strangers dropped.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PoolError } from '../../../src/errors.js';
import { ForkServer } from '../../../src/worker/fork-server.js';

let dir: string;
let server: ForkServer;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fork-server-'));
  server = await ForkServer.listen(path.join(dir, 'fork.sock'));
});

afterEach(async () => {
  await server.close(new PoolError('done', 'pool_stopped'));
  rmSync(dir, { recursive: true, force: true });
});

/** Connects and writes `chunks` one by one (each its own write). */
async function connect(...chunks: (string | Buffer)[]): Promise<net.Socket> {
  const socket = net.createConnection(server.path);
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  for (const chunk of chunks) await new Promise((resolve) => socket.write(chunk, resolve));
  return socket;
}

const closed = (socket: net.Socket) => new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));

describe('ForkServer', () => {
  it('is a socket only its owner may open', () => {
    expect(statSync(server.path).mode & 0o777).toBe(0o600);
  });

  it("hands over a child's three streams, with what it sent after its hello, whatever the packet boundaries", async () => {
    const expected = server.expect(5_000);
    const { token } = expected;
    const clients = [
      await connect(token.slice(0, 10), `${token.slice(10)}p`, 'frame bytes'),
      await connect(`${token}o`),
      await connect(`${token}e`),
    ];
    const streams = await expected.streams;
    const first = await new Promise<Buffer>((resolve) => streams.proto.once('data', resolve));
    expect(first.toString()).toBe('frame bytes');
    clients[1]!.write('a log line\n');
    expect((await new Promise<Buffer>((resolve) => streams.stdout.once('data', resolve))).toString()).toBe('a log line\n');
    for (const c of clients) c.destroy();
    for (const s of Object.values(streams)) s.destroy();
  });

  it('drops a connection with an unknown token or role, and a second stream of the same role', async () => {
    const expected = server.expect(5_000);
    const stranger = await connect(`${randomBytes(16).toString('hex')}p`);
    const badRole = await connect(`${expected.token}x`);
    const proto = await connect(`${expected.token}p`);
    const again = await connect(`${expected.token}p`);
    await Promise.all([closed(stranger), closed(badRole), closed(again)]);
    expect(proto.closed).toBe(false);
    proto.destroy();
  });

  it('rejects a child that does not connect in time, and closes what it had opened', async () => {
    const expected = server.expect(300);
    const proto = await connect(`${expected.token}p`);
    await expect(expected.streams).rejects.toMatchObject({ code: 'startup_timeout' });
    await closed(proto);
  });

  it('rejects the children still expected when it closes', async () => {
    const expected = server.expect(5_000);
    await server.close(new PoolError('stopped', 'pool_stopped'));
    await expect(expected.streams).rejects.toMatchObject({ code: 'pool_stopped' });
    server = await ForkServer.listen(path.join(dir, 'again.sock'));
  });
});
