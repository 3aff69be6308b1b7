// The multi-host test bed: container worker servers in three network namespaces ("hosts" with their
// own addresses), a discovery name served by dnsmasq, and one pool attached to them over TLS/mTLS.
// Needs root and network namespaces; skips with the reason where they are missing.
import { execa, execaSync } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForReadyFile } from '../../bench/ready-file.js';
import { Snakepit, type SnakepitConfigInput, type WorkerInfo } from '../../src/index.js';
import { createTestNetwork, dnsmasqUnavailable, netnsUnavailable, sweepStale, type TestNetwork } from '../helpers/netns.js';
import { makeCerts, SERVED_TOKEN, startServedWorker, stopServed, tlsFlags, type CertDir, type ServedWorker } from '../helpers/served.js';

const GATE = 'gate_adapter.GateAdapter';
const NAME = 'snakepit-workers.test';
const PORT = 50051;
const skipReason = netnsUnavailable() ?? dnsmasqUnavailable();

function start(pool: Record<string, unknown>): Promise<Snakepit> {
  const config = { pools: [{ name: 'default', transport: 'grpc', poolStartupTimeoutMs: 15_000, ...pool }] } as SnakepitConfigInput;
  return Snakepit.start(config, { logSink: () => {} });
}

describe.skipIf(skipReason !== undefined)(`workers on three namespaced hosts${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let net: TestNetwork;
  let dir: string;
  let certs: CertDir;
  let other: CertDir;
  let expired: CertDir;
  const workers: ServedWorker[] = [];
  /** The three TLS workers, one per namespace, at PORT. */
  let tls: ServedWorker[];
  let mtls: ServedWorker;
  let expiredTls: ServedWorker;
  let plaintext: ServedWorker;
  const serve = async (host: number, port: number, name: string, args: string[], env: Record<string, string> = {}) => {
    const worker = await startServedWorker({ dir, name, netns: net.hosts[host]!.netns, listen: `${net.hosts[host]!.address}:${port}`, adapter: GATE, args, env });
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    process.env.SNAKEPIT_NETNS_TEST_TOKEN = SERVED_TOKEN;
    net = await createTestNetwork(3, { dns: true });
    dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-netns-'));
    // As in a cluster: pods have changing IPs, so the certificate names the Service and the host
    // dials pod addresses with `serverName` set to it.
    certs = makeCerts(path.join(dir, 'certs'), [NAME]);
    other = makeCerts(path.join(dir, 'other'), [NAME]);
    expired = makeCerts(path.join(dir, 'expired'), [NAME], { days: -1, caDir: certs.dir });
    tls = await Promise.all([0, 1, 2].map((i) => serve(i, PORT, `tls-${i}`, tlsFlags(certs))));
    [mtls, expiredTls, plaintext] = await Promise.all([
      serve(0, PORT + 1, 'mtls', tlsFlags(certs, true)),
      serve(1, PORT + 1, 'expired', tlsFlags(expired)),
      serve(2, PORT + 1, 'plaintext', ['--insecure']),
    ]);
    await net.dns!.setRecords(NAME, net.hosts.map((h) => h.address));
  });
  afterAll(async () => {
    await stopServed(workers);
    await net?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a pool attached to the addresses the discovery name resolves to answers calls from all three hosts over TLS', async () => {
    const addresses = await net.dns!.resolve(NAME);
    expect(addresses).toEqual(net.hosts.map((h) => h.address).sort());
    const sp = await start({ workers: addresses.map((a) => ({ address: `${a}:${PORT}` })), tls: { ca: certs.ca, serverName: NAME }, token: { value: SERVED_TOKEN } });
    try {
      const pids = await Promise.all([0, 1, 2].map(() => sp.execute('pid')));
      expect(pids.sort()).toEqual(tls.map((w) => w.pid).sort());
      expect(sp.listWorkers().map((w) => w.pid).sort()).toEqual(tls.map((w) => w.pid).sort());
    } finally {
      await sp.stop();
    }
  });

  it('mTLS: the host presents its client certificate', async () => {
    const sp = await start({ workers: [{ address: mtls.address }], tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, serverName: NAME }, token: { env: 'SNAKEPIT_NETNS_TEST_TOKEN' } });
    try {
      await expect(sp.execute('echo_value', { value: 'over mTLS' })).resolves.toBe('over mTLS');
    } finally {
      await sp.stop();
    }
  });

  it('plaintext to a namespaced worker only with insecure: true', async () => {
    await expect(start({ workers: [{ address: plaintext.address }], token: { value: SERVED_TOKEN } })).rejects.toMatchObject({ code: 'insecure_transport', details: { address: plaintext.address } });
    const sp = await start({ workers: [{ address: plaintext.address }], token: { value: SERVED_TOKEN }, insecure: true });
    try {
      await expect(sp.execute('pid')).resolves.toBe(plaintext.pid);
    } finally {
      await sp.stop();
    }
  });

  it.each([
    ['a wrong CA', { code: 'tls_failed', details: { reason: 'untrusted' } }, () => ({ workers: [{ address: tls[0]!.address }], tls: { ca: other.ca, serverName: NAME } })],
    ['an expired certificate', { code: 'tls_failed', details: { reason: 'expired' } }, () => ({ workers: [{ address: expiredTls.address }], tls: { ca: certs.ca, serverName: NAME } })],
    ['mTLS without a client certificate', { code: 'tls_failed', details: { reason: 'client_cert_rejected' } }, () => ({ workers: [{ address: mtls.address }], tls: { ca: certs.ca, serverName: NAME } })],
    ['a wrong token', { code: 'unauthenticated' }, () => ({ workers: [{ address: tls[1]!.address }], tls: { ca: certs.ca, serverName: NAME }, token: { value: 'not-the-token' } })],
  ] as const)('%s fails the start typed, naming the worker address', async (_what, expected, pool) => {
    const config = { token: { value: SERVED_TOKEN }, ...pool() };
    await expect(start(config)).rejects.toMatchObject({ ...expected, details: { ...('details' in expected ? expected.details : {}), address: config.workers[0]!.address } });
  });

  it('SIGTERM drains a namespaced worker: the pool stops placing calls on it, its call in flight finishes, it exits 0, no crash', async () => {
    const draining = await serve(2, PORT + 2, 'drain', tlsFlags(certs));
    const gates = mkdtempSync(path.join(dir, 'gates-'));
    const other = tls[0]!;
    const sp = await start({ workers: [{ address: draining.address }, { address: other.address }], tls: { ca: certs.ca, serverName: NAME }, token: { value: SERVED_TOKEN } });
    try {
      const names = ['x', 'y'];
      const held = names.map((name) => sp.execute('hold', { gate_dir: gates, name }));
      const pids = await Promise.all(names.map((n) => waitForReadyFile<number>(path.join(gates, `${n}.started`), `the held call ${n}`))); // the gate writes its pid
      const [onDraining, onOther] = pids[0] === draining.pid ? names : [...names].reverse();
      const heard = once(sp.pool(), 'worker:draining', { signal: AbortSignal.timeout(20_000) });
      draining.child.kill('SIGTERM');
      const [info, reason] = (await heard) as [WorkerInfo, string];
      expect(info).toMatchObject({ address: draining.address, pid: draining.pid });
      expect(['not_serving', 'refused']).toContain(reason);
      const late = sp.execute('echo_value', { value: 'late' }); // waits for the other worker, never reaches the draining one
      writeFileSync(path.join(gates, `${onOther}.open`), '');
      await expect(late).resolves.toBe('late');
      writeFileSync(path.join(gates, `${onDraining}.open`), '');
      await expect(held[names.indexOf(onDraining!)]).resolves.toMatchObject({ name: onDraining, pid: draining.pid });
      expect((await draining.child).exitCode).toBe(0);
      expect(sp.health().crashes).toBe(0);
    } finally {
      await sp.stop();
    }
  });
});

describe.skipIf(netnsUnavailable() !== undefined)('the test bed cleans up after itself', () => {
  const namespaces = () => String(execaSync('ip', ['netns', 'list']).stdout);
  const links = () => String(execaSync('ip', ['-o', 'link', 'show']).stdout);

  it('close() removes the namespaces and links and ends the processes inside', async () => {
    const net = await createTestNetwork(2);
    const sleeper = execa('ip', ['netns', 'exec', net.hosts[0]!.netns, 'sleep', '300'], { reject: false });
    await net.close();
    expect((await sleeper).signal).toBe('SIGKILL');
    for (const host of net.hosts) expect(namespaces()).not.toContain(host.netns);
    expect(links()).not.toContain(`spb${process.pid.toString(36)}`);
  });

  it('a later run removes what a run that died left behind', async () => {
    const dead = execa('true');
    await dead;
    const owner = dead.pid!;
    const netns = `snakepit-t${owner}-0`;
    const bridge = `spb${owner.toString(36)}`;
    execaSync('ip', ['netns', 'add', netns]);
    execaSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
    const sleeper = execa('ip', ['netns', 'exec', netns, 'sleep', '300'], { reject: false });
    try {
      sweepStale();
      expect((await sleeper).signal).toBe('SIGKILL');
      expect(namespaces()).not.toContain(netns);
      expect(links()).not.toContain(bridge);
    } finally {
      execaSync('ip', ['netns', 'del', netns], { reject: false });
      execaSync('ip', ['link', 'del', bridge], { reject: false });
    }
  });
});
