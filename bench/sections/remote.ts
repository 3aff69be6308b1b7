/**
 * Remote workers (issue 21) on the test bed of test/helpers/netns.ts: container worker servers
 * (`snakepit_bridge.serve`) in network namespaces on a bridge, attached over plaintext gRPC.
 * - a call across a veth link beside the same call to the same server on 127.0.0.1;
 * - throughput with three workers in three namespaces beside three in one;
 * - the time from a DNS change (a record added on dnsmasq) to the new worker's first call.
 * Needs root and network namespaces; skipped with the reason otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bridgePythonPath } from '../../src/python/runtime.js';
import type { Snakepit, SnakepitConfigInput } from '../../src/index.js';
import { createTestNetwork, dnsmasqUnavailable, netnsUnavailable, type TestNetwork } from '../../test/helpers/netns.js';
import { SERVED_TOKEN, startServedWorker, stopServed, type ServedWorker } from '../../test/helpers/served.js';
import { benchDir, compareLatency, compareThroughput, IN_FLIGHT, knobs, median, row, startPool, type Row, type Section, type Target } from './common.js';

const PORT = 50051;
const NAME = 'snakepit-bench.test';
/** The discovery interval of the DNS-change rounds. */
const DNS_INTERVAL_MS = 1_000;

/** A pool attached to `addresses`, or discovering `NAME` (plaintext: both sides allow it, the bed is private). */
function remotePool(source: { addresses: string[] } | { dnsServer: string }): SnakepitConfigInput {
  const workers = 'addresses' in source ? { workers: source.addresses.map((address) => ({ address })) } : { discovery: { dns: `${NAME}:${PORT}`, intervalMs: DNS_INTERVAL_MS, dnsServers: [source.dnsServer] } };
  return { logLevel: 'error', pools: [{ name: 'default', transport: 'grpc', token: { value: SERVED_TOKEN }, insecure: true, ...workers }] } as SnakepitConfigInput;
}

const echoTarget = (addresses: string[]) => async (): Promise<Target> => {
  const sp = await startPool(remotePool({ addresses }));
  return { call: () => sp.execute('echo', { value: 'x' }), close: () => sp.stop() };
};

/** Calls until the worker at `address` has served one; resolves with the ms since `since`. */
async function untilServedBy(sp: Snakepit, address: string, since: number): Promise<number> {
  const deadline = since + 60_000;
  for (;;) {
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => sp.execute('echo', { value: 'x' })));
    if ((sp.listWorkers().find((w) => w.address === address)?.requests ?? 0) > 0) return performance.now() - since;
    if (performance.now() > deadline) throw new Error(`the worker at ${address} took no call within 60 s of the DNS change`);
  }
}

export const remoteSection: Section = {
  id: 'remote',
  title: 'remote workers (network namespaces on a bridge, snakepit_bridge.serve, plaintext; needs root)',
  async run() {
    const why = netnsUnavailable() ?? dnsmasqUnavailable();
    if (why) {
      process.stderr.write(`bench remote: skipped (${why})\n`);
      return [];
    }
    const s = 'remote';
    let net: TestNetwork | undefined;
    const served: ServedWorker[] = [];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-bench-remote-'));
    let count = 0;
    const serve = async (host: number | undefined, listen: string) => {
      const worker = await startServedWorker({
        dir,
        name: `w${count++}`,
        listen,
        adapter: 'bench_adapter.BenchAdapter',
        args: ['--insecure'],
        env: { PYTHONPATH: [bridgePythonPath(), path.join(benchDir, 'python')].join(path.delimiter) },
        ...(host === undefined ? {} : { netns: net!.hosts[host]!.netns }),
      });
      served.push(worker);
      return worker;
    };
    try {
      net = await createTestNetwork(4, { dns: true });
      const at = (host: number, port = PORT) => `${net!.hosts[host]!.address}:${port}`;
      const [local, veth] = await Promise.all([serve(undefined, '127.0.0.1:0'), serve(0, at(0))]);
      const [l, v] = await compareLatency([echoTarget([local.address]), echoTarget([veth.address])]);

      const spread = await Promise.all([1, 2, 3].map((h) => serve(h, at(h))));
      const packed = await Promise.all([1, 2, 3].map((i) => serve(0, at(0, PORT + i))));
      const [one, three] = await compareThroughput([echoTarget(packed.map((w) => w.address)), echoTarget(spread.map((w) => w.address))]);

      const joins: number[] = [];
      for (let round = 0; round < Math.max(3, knobs.throughputRounds); round++) {
        await net.dns!.setRecords(NAME, [net.hosts[1]!.address]);
        const sp = await startPool(remotePool({ dnsServer: net.dns!.server }));
        try {
          const changedAt = performance.now();
          await net.dns!.setRecords(NAME, [1, 2].map((h) => net!.hosts[h]!.address));
          joins.push(await untilServedBy(sp, at(2), changedAt));
        } finally {
          await sp.stop();
        }
      }
      return [
        row(s, 'sequential echo p50, across a veth link', 'µs', 'same server on 127.0.0.1', l!.p50Us, v!.p50Us, '<= 1.1'),
        row(s, 'sequential echo p99, across a veth link', 'µs', 'same server on 127.0.0.1', l!.p99Us, v!.p99Us),
        row(s, `throughput, 3 workers in 3 namespaces, ${IN_FLIGHT} in flight`, 'calls/s', '3 workers in 1 namespace', one!.rate, three!.rate),
        row(s, `DNS change to the new worker's first call (intervalMs ${DNS_INTERVAL_MS})`, 'ms', 'the discovery interval', DNS_INTERVAL_MS, median(joins)),
      ] satisfies Row[];
    } finally {
      await stopServed(served);
      await net?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
