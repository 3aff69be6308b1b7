// `snakepit status`: finds the instances running on this machine through their control sockets.
// "None running" looks into an empty private runtime folder. Instances run in the real one: a host
// in another runtime folder would look orphaned to every other start's reaper (and its own start
// would reap theirs), so the tests there pick their own run id out of whatever else runs.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanup, render } from 'ink-testing-library';
import { createElement as h } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverInstances, getText } from '../../src/control/discover.js';
import { controlDir, controlSocketPath } from '../../src/control/server.js';
import type { InstanceSnapshot } from '../../src/control/snapshot.js';
import { Snakepit, telemetry } from '../../src/index.js';
import { runsRoot } from '../../src/process/run-dir.js';
import { StatusApp } from '../../src/ui/status-dashboard.js';
import { cli, json } from '../helpers/cli.js';
import { waitForFrame } from '../helpers/ink.js';

const quiet = { logSink: () => {} };
const ids = (snaps: InstanceSnapshot[]) => snaps.map((s) => s.runId);

afterAll(() => cleanup());

describe('with no instance running', () => {
  let tmp: string;
  const savedXdg = process.env.XDG_RUNTIME_DIR;

  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sp-status-'));
    process.env.XDG_RUNTIME_DIR = tmp;
  });

  afterAll(() => {
    if (savedXdg === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = savedXdg;
    rmSync(tmp, { recursive: true, force: true });
  });

  it('says so and exits 0', async () => {
    const r = await cli(['status']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe('No running Snakepit instances found.');
  });

  it('--json prints an empty array', async () => {
    const r = await cli(['status', '--json']);
    expect(r.exitCode).toBe(0);
    expect(json<unknown[]>(r)).toEqual([]);
  });

  it('skips a socket nobody listens on and a socket whose host is dead', async () => {
    const dir = controlDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A socket file nobody listens on (its host died without removing it, registry off).
    writeFileSync(path.join(dir, 'aaaaaaa.sock'), '');
    writeFileSync(path.join(dir, 'ccccccc.sock'), '');
    const old = new Date(Date.now() - 120_000);
    utimesSync(path.join(dir, 'ccccccc.sock'), old, old);
    // A socket whose registry record names a dead host.
    mkdirSync(path.join(runsRoot(), 'registry'), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(runsRoot(), 'registry', 'bbbbbbb.json'), JSON.stringify({ version: 1, runId: 'bbbbbbb', hostPid: 2 ** 22 + 1, hostStartTime: null, createdAt: new Date().toISOString(), workers: [] }));
    writeFileSync(path.join(dir, 'bbbbbbb.sock'), '');
    expect(await discoverInstances()).toEqual([]);
    // The old refused one was a dead host's leftover and is gone; the young one may be a host starting.
    expect(existsSync(path.join(dir, 'ccccccc.sock'))).toBe(false);
    expect(existsSync(path.join(dir, 'aaaaaaa.sock'))).toBe(true);
    const r = await cli(['status', '--json']);
    expect(r.exitCode).toBe(0);
    expect(json<unknown[]>(r)).toEqual([]);
  });
});

describe('with an instance running', () => {
  let sp: Snakepit;

  beforeAll(async () => {
    sp = await Snakepit.start({ poolSize: 1, controlPort: 0 }, quiet);
    await sp.execute('add', { a: 1, b: 2 });
  });

  afterAll(async () => {
    await sp?.stop();
  });

  it('publishes a 0600 control socket named by run id', () => {
    expect(sp.controlEndpoint?.socketPath).toBe(controlSocketPath(sp.runId));
    expect(statSync(sp.controlEndpoint!.socketPath).mode & 0o777).toBe(0o600);
  });

  it('GET /status is the snapshot: pools, stats, health, workers with RSS and heartbeat age, call rates', async () => {
    const snap = JSON.parse(await getText(sp.controlEndpoint!.socketPath, '/status')) as InstanceSnapshot;
    expect(snap).toMatchObject({ runId: sp.runId, pid: process.pid, version: 1 });
    const [pool] = snap.pools;
    expect(pool).toMatchObject({ name: 'default', profile: 'process', transport: 'pipe', size: 1, health: { status: 'healthy' } });
    expect(pool!.stats.requests).toBeGreaterThanOrEqual(1);
    expect(pool!.calls.callsPerSec).toBeGreaterThan(0);
    expect(pool!.calls.p50Ms).toBeGreaterThan(0);
    expect(pool!.workers).toHaveLength(1);
    expect(pool!.workers[0]!.pid).toBe(sp.listWorkers()[0]!.pid);
    expect(pool!.workers[0]!.rssMb).toBeGreaterThan(1);
    expect(pool!.workers[0]).toHaveProperty('heartbeatAgeMs');
  });

  it('GET /metrics is Prometheus text with the pool counters', async () => {
    const text = await getText(sp.controlEndpoint!.socketPath, '/metrics');
    expect(text).toMatch(new RegExp(`^snakepit_pool_requests_total\\{run_id="${sp.runId}",pool="default"\\} [1-9]`, 'm'));
    expect(text).toMatch(/^# TYPE snakepit_pool_queue_depth gauge$/m);
  });

  it('GET /metrics adds the metrics registry (telemetry.metrics(), or made by the first scrape), each family once', async () => {
    telemetry.metrics();
    await sp.execute('ping');
    const text = await getText(sp.controlEndpoint!.socketPath, '/metrics');
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
    expect(text).toMatch(/^snakepit_call_duration_seconds_count\{pool="default",tool="ping",outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^snakepit_pool_requests_total\{run_id=/m);
  });

  it('the TCP endpoint needs the run token', async () => {
    const { port, token } = sp.controlEndpoint!;
    expect(port).toBeGreaterThan(0);
    const url = `http://127.0.0.1:${port}/status`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as InstanceSnapshot).runId).toBe(sp.runId);
  });

  it('one-shot output is a table of pool, profile, workers, queued, requests, errors', async () => {
    const r = await cli(['status']);
    expect(r.exitCode).toBe(0);
    const block = r.stdout.split('\n\n').find((b) => b.startsWith(`Snakepit ${sp.runId}`));
    expect(block).toBeDefined();
    expect(block).toMatch(/POOL\s+PROFILE\s+WORKERS\s+QUEUED\s+REQUESTS\s+ERRORS/);
    expect(block).toMatch(/default\s+process\s+1\/1\s+0\s+[1-9]\d*\s+0/);
  });

  it('--json prints the snapshots', async () => {
    const r = await cli(['status', '--json']);
    expect(r.exitCode).toBe(0);
    const mine = json<InstanceSnapshot[]>(r).find((s) => s.runId === sp.runId);
    expect(mine?.pools[0]).toMatchObject({ name: 'default', stats: { queued: 0, errors: 0 } });
  });

  it('--watch and --json together are refused', async () => {
    const r = await cli(['status', '--watch', '--json']);
    expect(r.exitCode).not.toBe(0);
  });

  it('the watch dashboard on the real endpoint shows numbers changing as calls run', async () => {
    // Only this instance in view: other test files' instances would make the frame long and busy.
    const source = async () => (await discoverInstances()).filter((s) => s.runId === sp.runId);
    const app = render(h(StatusApp, { source, intervalMs: 50 }));
    const requestsIn = (f: string) => Number(/requests (\d+)/.exec(f)?.[1] ?? NaN);
    const first = await waitForFrame(app, (f) => f.includes(`Snakepit ${sp.runId}`) && Number.isFinite(requestsIn(f)));
    const before = requestsIn(first);
    for (let i = 0; i < 5; i++) await sp.execute('add', { a: i, b: 1 });
    const second = await waitForFrame(app, (f) => requestsIn(f) >= before + 5);
    expect(second).not.toBe(first);
    expect(second).toMatch(new RegExp(`${sp.listWorkers()[0]!.id}\\s+${sp.listWorkers()[0]!.pid}\\s+(ready|busy)`));
    app.unmount();
  });

  it('stop() removes the socket, and status no longer lists the instance', async () => {
    const other = await Snakepit.start({ poolSize: 1 }, quiet);
    const socket = other.controlEndpoint!.socketPath;
    expect(ids(await discoverInstances())).toEqual(expect.arrayContaining([sp.runId, other.runId]));
    await other.stop();
    expect(() => statSync(socket)).toThrow();
    const after = ids(await discoverInstances());
    expect(after).toContain(sp.runId);
    expect(after).not.toContain(other.runId);
  });

  it('controlEndpoint: false publishes nothing', async () => {
    const off = await Snakepit.start({ poolSize: 1, controlEndpoint: false }, quiet);
    try {
      expect(off.controlEndpoint).toBeUndefined();
      expect(existsSync(controlSocketPath(off.runId))).toBe(false);
      expect(ids(await discoverInstances())).not.toContain(off.runId);
    } finally {
      await off.stop();
    }
  });
});
