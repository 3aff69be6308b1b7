/**
 * The control endpoint of one running instance: HTTP over a Unix socket (0600) in the per-user run
 * folder, named by run id, so `snakepit status` on this machine finds every instance by itself.
 * `GET /status` is the JSON snapshot, `GET /metrics` the Prometheus text. With `controlPort` it is
 * also served on 127.0.0.1:<port>, where every request needs the run's bearer token.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ensurePrivateDir } from '../process/registry.js';
import { runsRoot } from '../process/run-dir.js';
import { metrics } from '../telemetry/metrics.js';
import { exposition, METRICS_CONTENT_TYPE } from './metrics-text.js';
import { takeSnapshot, type InstanceSnapshot, type SnapshotSource } from './snapshot.js';

/** Folder of the control sockets (and TCP tokens) inside a runtime folder. */
export function controlDir(root: string = runsRoot()): string {
  return path.join(root, 'control');
}

/** Socket path of a run's control endpoint. */
export function controlSocketPath(runId: string, root: string = runsRoot()): string {
  return path.join(controlDir(root), `${runId}.sock`);
}

/** Where a run's TCP token is written (0600), for clients of the TCP endpoint. */
export function controlTokenPath(runId: string, root: string = runsRoot()): string {
  return path.join(controlDir(root), `${runId}.token`);
}

/** Where an instance's control endpoint listens. */
export interface ControlEndpointInfo {
  socketPath: string;
  /** The TCP port when `controlPort` is set. */
  port?: number;
  /** Bearer token the TCP endpoint requires (`Authorization: Bearer <token>`). */
  token?: string;
}

/** An instance the endpoint can snapshot and whose pools' calls it can time. */
export type ControlSource = SnapshotSource;

/** Options of `ControlServer.start`. */
export interface ControlServerOptions {
  /** Also listen on 127.0.0.1 at this port (0: the OS picks). @default undefined (socket only) */
  port?: number | undefined;
  /** Runtime folder. @default runsRoot() */
  root?: string;
}

/** A running control endpoint; `stop()` closes it and removes its socket. */
export class ControlServer {
  readonly #servers: http.Server[];
  readonly info: ControlEndpointInfo;
  readonly #tokenFile: string | undefined;

  private constructor(servers: http.Server[], info: ControlEndpointInfo, tokenFile: string | undefined) {
    this.#servers = servers;
    this.info = info;
    this.#tokenFile = tokenFile;
  }

  /** Serves `source`'s snapshots. */
  static async start(source: ControlSource, options: ControlServerOptions = {}): Promise<ControlServer> {
    const root = options.root ?? runsRoot();
    ensurePrivateDir(root);
    ensurePrivateDir(controlDir(root));
    const startedAt = new Date().toISOString();
    const snapshot = (): Promise<InstanceSnapshot> => takeSnapshot(source, startedAt);

    const socketPath = controlSocketPath(source.runId, root);
    rmSync(socketPath, { force: true });
    const local = http.createServer((req, res) => void handle(req, res, snapshot));
    await listen(local, { path: socketPath });
    // The folder is 0700 already; the socket's own mode says the same to anyone who copies it out.
    chmodSync(socketPath, 0o600);
    if (options.port === undefined) return new ControlServer([local], { socketPath }, undefined);

    const token = randomBytes(24).toString('hex');
    const tcp = http.createServer((req, res) => {
      if (!authorised(req, token)) return void send(res, 401, 'application/json', JSON.stringify({ error: { code: 'unauthorized' } }));
      void handle(req, res, snapshot);
    });
    try {
      await listen(tcp, { host: '127.0.0.1', port: options.port });
    } catch (error) {
      await close(local);
      rmSync(socketPath, { force: true });
      throw error;
    }
    const tokenFile = controlTokenPath(source.runId, root);
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const port = (tcp.address() as AddressInfo).port;
    return new ControlServer([local, tcp], { socketPath, port, token }, tokenFile);
  }

  /** Closes the endpoint (open connections too) and removes its socket and token file. */
  async stop(): Promise<void> {
    await Promise.all(this.#servers.map(close));
    rmSync(this.info.socketPath, { force: true });
    if (this.#tokenFile) rmSync(this.#tokenFile, { force: true });
  }
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, snapshot: () => Promise<InstanceSnapshot>): Promise<void> {
  const route = `${req.method ?? 'GET'} ${new URL(req.url ?? '/', 'http://control').pathname}`;
  try {
    if (route === 'GET /status') return send(res, 200, 'application/json', JSON.stringify(await snapshot()));
    // The first scrape creates the metrics registry: from then on its counters run (an instance nobody scrapes pays nothing).
    if (route === 'GET /metrics') return send(res, 200, METRICS_CONTENT_TYPE, await exposition(await snapshot(), metrics()));
    send(res, 404, 'application/json', JSON.stringify({ error: { code: 'not_found', routes: ['GET /status', 'GET /metrics'] } }));
  } catch (error) {
    send(res, 500, 'application/json', JSON.stringify({ error: { code: 'internal', message: (error as Error).message } }));
  }
}

function authorised(req: http.IncomingMessage, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
}

function listen(server: http.Server, address: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => {
      server.off('error', reject);
      // The endpoint alone must not keep a process alive that would otherwise exit.
      server.unref();
      resolve();
    });
  });
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
