// Issue 21 part B on the multi-host test bed: a pool that finds its workers by DNS (dnsmasq on the test
// network) among container worker servers in network namespaces. Discovery of every host, scale-up and
// scale-down, SIGKILL mid-call, a partition, a rolling replacement under load, and host tools from a
// worker that cannot reach the host. Needs root and network namespaces; skips with the reason elsewhere.
import { once } from 'node:events';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitForReadyFile } from '../../bench/ready-file.js';
import { Snakepit, type SnakepitConfigInput, type WorkerInfo } from '../../src/index.js';
import { waitUntil } from '../helpers/hosts.js';
import { createTestNetwork, dnsmasqUnavailable, netnsUnavailable, type TestNetwork } from '../helpers/netns.js';
import { makeCerts, SERVED_TOKEN, startServedWorker, stopServed, tlsFlags, type CertDir, type ServedWorker } from '../helpers/served.js';

const GATE = 'gate_adapter.GateAdapter';
const NAME = 'snakepit-workers.test';
const PORT = 50051;
const INTERVAL_MS = 200;
const HOSTS = 6;
const skipReason = netnsUnavailable() ?? dnsmasqUnavailable();

describe.skipIf(skipReason !== undefined)(`a pool discovering its workers by DNS${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let net: TestNetwork;
  let dir: string;
  let certs: CertDir;
  let gates: string;
  let served: ServedWorker[] = [];
  let count = 0;
  const address = (host: number) => `${net.hosts[host]!.address}:${PORT}`;
  const serve = async (host: number, options: { args?: string[]; env?: Record<string, string>; adapter?: string } = {}) => {
    const worker = await startServedWorker({
      dir,
      name: `h${host}-${count++}`,
      netns: net.hosts[host]!.netns,
      listen: address(host),
      adapter: options.adapter ?? GATE,
      args: [...tlsFlags(certs), ...(options.args ?? [])],
      env: options.env ?? {},
    });
    served.push(worker);
    return worker;
  };
  const list = (hosts: number[]) => net.dns!.setRecords(NAME, hosts.map((h) => net.hosts[h]!.address));
  const start = (pool: Record<string, unknown> = {}, top: Record<string, unknown> = {}) =>
    Snakepit.start(
      {
        ...top,
        pools: [{
          name: 'default', transport: 'grpc', poolStartupTimeoutMs: 15_000,
          discovery: { dns: `${NAME}:${PORT}`, intervalMs: INTERVAL_MS, dnsServers: [net.dns!.server] },
          tls: { ca: certs.ca, serverName: NAME }, token: { value: SERVED_TOKEN }, ...pool,
        }],
      } as SnakepitConfigInput,
      { logSink: () => {} },
    );
  const live = (sp: Snakepit) => sp.listWorkers().filter((w) => w.state === 'ready' || w.state === 'busy');
  const hold = (sp: Snakepit, name: string, options: { idempotent?: boolean } = {}) => sp.execute('hold', { gate_dir: gates, name }, options);
  /** The pid of the worker a held call runs on (its gate file), then the file is removed for a later start. */
  const started = async (name: string) => {
    const file = path.join(gates, `${name}.started`);
    const pid = await waitForReadyFile<number>(file, `the held call ${name}`);
    unlinkSync(file);
    return pid;
  };
  const open = (name: string) => writeFileSync(path.join(gates, `${name}.open`), '');

  beforeAll(async () => {
    net = await createTestNetwork(HOSTS, { dns: true });
    dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-discovery-'));
    certs = makeCerts(path.join(dir, 'certs'), [NAME]);
  });
  afterEach(async () => {
    await stopServed(served);
    served = [];
    for (let h = 0; h < HOSTS; h++) net.partition(h, false);
  });
  afterAll(async () => {
    await net?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeAll(() => {
    gates = mkdtempSync(path.join(os.tmpdir(), 'snakepit-gates-'));
    return () => rmSync(gates, { recursive: true, force: true });
  });

  it('attaches one worker per address of the name, with the capacity and zone each worker reports', async () => {
    const pods = await Promise.all([0, 1, 2].map((h) => serve(h, { args: ['--profile', 'thread', '--max-concurrency', '2'], env: { SNAKEPIT_ZONE: `zone-${h}` } })));
    await list([0, 1, 2]);
    const sp = await start(); // workerProfile 'process' here: capacity 1 if the host's config decided
    try {
      const seen = sp.listWorkers().map((w) => [w.address, w.zone, w.capacity, w.pid]);
      expect(seen.sort()).toEqual([0, 1, 2].map((h) => [address(h), `zone-${h}`, 2, pods[h]!.pid]).sort());
      expect(sp.health()).toMatchObject({ status: 'healthy', size: 3, workers: 3 });
      const pids = await Promise.all(Array.from({ length: 6 }, () => sp.execute('pid')));
      expect(pods.map((p) => p.pid)).toEqual(expect.arrayContaining([...new Set(pids)]));
    } finally {
      await sp.stop();
    }
  });

  it('fails the start typed when the name has no records', async () => {
    await list([]);
    await expect(start()).rejects.toMatchObject({ code: 'discovery_failed', details: { dns: `${NAME}:${PORT}` } });
  });

  it('scale-up: an added record joins; scale-down: a removed one drains, its call in flight finishes, nothing fails', async () => {
    const pods = [await serve(0), await serve(1)];
    await list([0, 1]);
    const sp = await start();
    try {
      const pool = sp.pool();
      pods.push(await serve(2));
      const joined = waitFor(pool, 'worker:ready', address(2));
      await list([0, 1, 2]);
      await joined;
      expect(live(sp).map((w) => w.address).sort()).toEqual([0, 1, 2].map(address).sort());

      const names = ['a', 'b', 'c'];
      const calls = names.map((n) => hold(sp, n));
      const pids = await Promise.all(names.map(started));
      const onRemoved = names[pids.indexOf(pods[1]!.pid)]!;
      const draining = waitFor(pool, 'worker:draining', address(1));
      const exited = waitFor(pool, 'worker:exit', address(1));
      await list([0, 2]);
      expect((await draining)[1]).toBe('delisted');
      for (const n of names.filter((n) => n !== onRemoved)) open(n);
      const later = await Promise.all(Array.from({ length: 4 }, () => sp.execute('pid')));
      expect(later).not.toContain(pods[1]!.pid); // a draining worker takes no new calls
      open(onRemoved);
      expect((await Promise.all(calls)).map((r) => (r as { pid: number }).pid).sort()).toEqual([...pids].sort());
      expect((await exited)[1]).toMatchObject({ expected: true });
      expect(live(sp).map((w) => w.address).sort()).toEqual([address(0), address(2)].sort());
      expect(sp.health()).toMatchObject({ status: 'healthy', size: 2, crashes: 0 });
    } finally {
      await sp.stop();
    }
  });

  it('SIGKILL of a pod mid-call: its call fails typed, an idempotent one runs again elsewhere, the address joins again when it serves', async () => {
    const pods = await Promise.all([0, 1, 2].map((h) => serve(h)));
    await list([0, 1, 2]);
    const sp = await start({}, { crashBarrier: { enabled: true, taintMs: 0 } });
    try {
      const pool = sp.pool();
      const plain = hold(sp, 'plain');
      const idempotent = hold(sp, 'idem', { idempotent: true });
      const [plainPid, idemPid] = await Promise.all([started('plain'), started('idem')]);
      const byPid = (pid: number) => sp.listWorkers().find((w) => w.pid === pid)!;
      const [plainWorker, idemWorker] = [byPid(plainPid), byPid(idemPid)];
      const third = pods.find((p) => p.pid !== plainPid && p.pid !== idemPid)!;
      const kill = (pid: number) => pods.find((p) => p.pid === pid)!.child.kill('SIGKILL');
      kill(idemPid);
      expect(await started('idem')).toBe(third.pid); // the retry, on the idle pod
      kill(plainPid);
      await expect(plain).rejects.toMatchObject({ code: 'worker_crashed', details: { workerId: plainWorker.id } });
      open('idem');
      await expect(idempotent).resolves.toMatchObject({ pid: third.pid });
      expect(sp.health().crashes).toBe(2);

      const host = pods.indexOf(pods.find((p) => p.pid === idemPid)!);
      const rejoined = waitFor(pool, 'worker:ready', idemWorker.address!);
      const restarted = await serve(host); // Kubernetes restarts the container: same pod, same address
      await rejoined;
      expect(live(sp).find((w) => w.address === idemWorker.address)?.pid).toBe(restarted.pid);
    } finally {
      open('plain');
      await sp.stop();
    }
  });

  it('a partition (link down) fails the calls on the cut host within the heartbeat bounds, by keepalive alone', async () => {
    await Promise.all([0, 1].map((h) => serve(h)));
    await list([0, 1]);
    const heartbeat = { enabled: false, pingIntervalMs: 300, timeoutMs: 500, maxMissedHeartbeats: 2 };
    const boundMs = heartbeat.pingIntervalMs + heartbeat.timeoutMs * heartbeat.maxMissedHeartbeats;
    const sp = await start({ heartbeat });
    try {
      const call = hold(sp, 'cut');
      const pid = await started('cut');
      const worker = sp.listWorkers().find((w) => w.pid === pid)!;
      const host = net.hosts.findIndex((h) => worker.address === `${h.address}:${PORT}`);
      const lost = waitFor(sp.pool(), 'worker:exit', worker.address!);
      const cutAt = performance.now();
      net.partition(host);
      await expect(call).rejects.toMatchObject({ code: 'worker_crashed', details: { workerId: worker.id } });
      const detectedMs = performance.now() - cutAt;
      await lost;
      // Bound plus the scheduling slack of a loaded 2-core machine; TCP alone would take minutes.
      expect(detectedMs).toBeLessThan(boundMs + 2_000);
      await expect(sp.execute('echo_value', { value: 'still served' })).resolves.toBe('still served');
    } finally {
      open('cut');
      await sp.stop();
    }
  });

  it('a rolling replacement under load: no call fails but those in flight on the pod killed outright', async () => {
    const old = await Promise.all([0, 1, 2].map((h) => serve(h)));
    let listed = [0, 1, 2];
    await list(listed);
    const sp = await start();
    const pool = sp.pool();
    const failures: { code: string; workerId: unknown }[] = [];
    let ok = 0;
    let running = true;
    const load = Array.from({ length: 6 }, async (_, i) => {
      for (let n = 0; running; n++) {
        await sp.execute('echo_value', { value: `${i}-${n}` }).then(
          () => ok++,
          (error: { code: string; details: Record<string, unknown> }) => failures.push({ code: error.code, workerId: error.details.workerId }),
        );
      }
    });
    let killedId: string | undefined;
    try {
      for (const [i, fresh] of [[0, 3], [1, 4], [2, 5]] as const) {
        await serve(fresh);
        const joined = waitFor(pool, 'worker:ready', address(fresh));
        listed = [...listed, fresh];
        await list(listed);
        await joined;
        const gone = waitFor(pool, 'worker:exit', address(i));
        const okBefore = ok;
        if (i < 2) old[i]!.child.kill('SIGTERM'); // a rollout: the pod drains
        else {
          killedId = live(sp).find((w) => w.address === address(i))!.id;
          old[i]!.child.kill('SIGKILL'); // a node lost outright
        }
        listed = listed.filter((h) => h !== i); // the endpoints controller drops the pod
        await list(listed);
        await gone;
        // The load keeps flowing: a SIGKILLed pod's exit can be seen before any other call ended, so wait for one.
        await waitUntil(() => ok > okBefore, 10_000, 'a call succeeding after the old worker left');
        expect(ok).toBeGreaterThan(okBefore);
      }
    } finally {
      running = false;
      await Promise.all(load);
      await sp.stop();
    }
    expect(failures.filter((f) => !(f.code === 'worker_crashed' && f.workerId === killedId))).toEqual([]);
    expect(ok).toBeGreaterThan(0);
  });

  it('host tools from a worker that cannot reach the host: the connection the host opened carries them', async () => {
    await serve(0, { adapter: 'host_adapter.HostAdapter' });
    await list([0]);
    // The host's HostService on TCP 127.0.0.1: inside the worker's namespace that is its own loopback.
    const sp = await start({}, { grpcHost: '127.0.0.1', grpcPort: 0 });
    try {
      sp.registerTool('add', ({ a, b }) => (a as number) + (b as number), { exposedToPython: true });
      await expect(sp.execute('call_host', { name: 'add', args: { a: 2, b: 3 } })).resolves.toBe(5);
      await expect(sp.execute('list_host_tools')).resolves.toEqual(['add']);
      const session = sp.session('remote-1');
      await session.execute('state_set', { key: 'k', value: [1, 'two'] });
      expect(session.state.get('k')).toEqual([1, 'two']);
      await expect(sp.execute('call_host', { name: 'missing' })).rejects.toMatchObject({ code: 'python_error', details: { code: 'unknown_host_tool' } });
    } finally {
      await sp.stop();
    }
  });
});

/** Resolves with the event's arguments once `event` names the worker at `address`; bounded by 30 s. */
async function waitFor(pool: NodeJS.EventEmitter, event: string, address: string): Promise<unknown[]> {
  const signal = AbortSignal.timeout(30_000);
  for (;;) {
    const args = (await once(pool, event, { signal })) as unknown[];
    if ((args[0] as WorkerInfo).address === address) return args;
  }
}
