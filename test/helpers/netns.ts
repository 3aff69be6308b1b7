// The multi-host test bed on one machine: Linux network namespaces ("hosts", each with its own address)
// on one bridge, and a real DNS server (dnsmasq) on that network serving a discovery name.
//
//   root namespace (the Snakepit host)  10.A.B.1 on bridge spb<id>   dnsmasq on 10.A.B.1:53
//        ├── veth ── namespace snakepit-t<pid>-0   10.A.B.10
//        ├── veth ── namespace snakepit-t<pid>-1   10.A.B.11
//        └── ...
//
// Every name carries the creating process's pid, so a later run removes what a crashed one left
// (`sweepStale`). Traffic stays on the bridge: nothing is routed anywhere else.
import { execa, execaSync, type ResultPromise } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

const NS_PREFIX = 'snakepit-t';
const DNSMASQ_READY_MS = 10_000;

/** One simulated host: a network namespace with one address. */
export interface NetHost {
  netns: string;
  address: string;
}

/** The DNS server of the test network and its records (an `addn-hosts` file it re-reads on SIGHUP). */
export interface TestDns {
  /** `10.A.B.1`, port 53. */
  server: string;
  /** Sets the A records of `name` (replacing earlier ones) and waits until the server answers with them. */
  setRecords(name: string, addresses: readonly string[]): Promise<void>;
  /** The A records the server gives for `name` (empty when it has none). */
  resolve(name: string): Promise<string[]>;
}

/** A bridge, its namespaces, optionally dnsmasq; `close()` removes everything (also after a failure). */
export interface TestNetwork {
  gateway: string;
  hosts: NetHost[];
  dns: TestDns | undefined;
  /** Cuts host `index` off the network (its link goes down; nothing is closed, packets just vanish), or (`false`) heals it. */
  partition(index: number, cut?: boolean): void;
  close(): Promise<void>;
}

/** Undefined when namespaces work here; else why the tests that need them skip. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the tests as root, as CI does)';
  const probe = `${NS_PREFIX}${process.pid}-probe`;
  try {
    execaSync('ip', ['netns', 'add', probe]);
    execaSync('ip', ['netns', 'del', probe]);
    return undefined;
  } catch (error) {
    return `cannot create a network namespace here (${(error as Error).message.split('\n')[0]})`;
  }
}

/** Undefined when dnsmasq runs here (installing the distribution's package when missing and root); else why not. */
export function dnsmasqUnavailable(): string | undefined {
  const found = () => execaSync('sh', ['-c', 'command -v dnsmasq'], { reject: false }).exitCode === 0;
  if (found()) return undefined;
  if (process.getuid?.() !== 0) return 'dnsmasq is not installed (apt-get install dnsmasq-base)';
  execaSync('apt-get', ['install', '-y', '--no-install-recommends', 'dnsmasq-base'], { reject: false, timeout: 300_000, env: { DEBIAN_FRONTEND: 'noninteractive' } });
  return found() ? undefined : 'dnsmasq is not installed and apt-get could not install dnsmasq-base';
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Kills every process inside `netns` (deleting a namespace does not end its processes). */
function killInside(netns: string): void {
  const pids = execaSync('ip', ['netns', 'pids', netns], { reject: false }).stdout;
  for (const pid of String(pids).split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function removeAll(owner: number): void {
  const tag = owner.toString(36);
  for (const line of String(execaSync('ip', ['-o', 'link', 'show'], { reject: false }).stdout).split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    if (name === `spb${tag}` || name?.startsWith(`spv${tag}x`)) execaSync('ip', ['link', 'del', name], { reject: false });
  }
  for (const line of String(execaSync('ip', ['netns', 'list'], { reject: false }).stdout).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (!name.startsWith(`${NS_PREFIX}${owner}-`)) continue;
    killInside(name);
    execaSync('ip', ['netns', 'del', name], { reject: false });
  }
}

/** Removes the namespaces and links of earlier test runs whose process is gone. */
export function sweepStale(): void {
  const owners = new Set<number>();
  for (const line of String(execaSync('ip', ['netns', 'list'], { reject: false }).stdout).split('\n')) {
    const owner = new RegExp(`^${NS_PREFIX}(\\d+)-`).exec(line)?.[1];
    if (owner && !alive(Number(owner))) owners.add(Number(owner));
  }
  for (const owner of owners) removeAll(owner);
}

/** A /24 in 10.200-249.x.0 that no route of this machine uses yet. */
function freeSubnet(): string {
  const routes = String(execaSync('ip', ['-4', 'route', 'show'], { reject: false }).stdout);
  for (let attempt = 0; attempt < 50; attempt++) {
    const prefix = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 256)}`;
    if (!routes.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('no free 10.2xx.x.0/24 for the test network');
}

/**
 * Creates `hostCount` namespaces on a fresh bridge; with `dns`, starts dnsmasq on the bridge address.
 * A process exit handler removes everything too, should `close()` never run.
 */
export async function createTestNetwork(hostCount: number, options: { dns?: boolean } = {}): Promise<TestNetwork> {
  sweepStale();
  const owner = process.pid;
  const tag = owner.toString(36);
  const prefix = freeSubnet();
  const gateway = `${prefix}.1`;
  const bridge = `spb${tag}`;
  const onExit = () => removeAll(owner);
  process.once('exit', onExit);
  const hosts: NetHost[] = [];
  let dnsmasq: ResultPromise | undefined;
  let folder: string | undefined;
  const close = async () => {
    dnsmasq?.kill('SIGKILL');
    await dnsmasq;
    removeAll(owner);
    if (folder) rmSync(folder, { recursive: true, force: true });
    process.off('exit', onExit);
  };
  try {
    const ip = (...args: string[]) => execaSync('ip', args);
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${gateway}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (let i = 0; i < hostCount; i++) {
      const netns = `${NS_PREFIX}${owner}-${i}`;
      const outer = `spv${tag}x${i}`;
      const address = `${prefix}.${10 + i}`;
      ip('netns', 'add', netns);
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
      ip('link', 'set', outer, 'master', bridge);
      ip('link', 'set', outer, 'up');
      ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ip('-n', netns, 'link', 'set', 'eth0', 'up');
      ip('-n', netns, 'link', 'set', 'lo', 'up');
      hosts.push({ netns, address });
    }
    let dns: TestDns | undefined;
    if (options.dns) {
      folder = mkdtempSync(path.join(os.tmpdir(), 'snakepit-dns-'));
      ({ dns, dnsmasq } = await startDnsmasq(gateway, path.join(folder, 'hosts')));
    }
    const partition = (index: number, cut = true) => ip('link', 'set', `spv${tag}x${index}`, cut ? 'down' : 'up');
    return { gateway, hosts, dns, partition, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function startDnsmasq(address: string, hostsFile: string): Promise<{ dns: TestDns; dnsmasq: ResultPromise }> {
  writeFileSync(hostsFile, '');
  const dnsmasq = execa(
    'dnsmasq',
    ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-negcache', '--bind-interfaces', `--listen-address=${address}`, '--port=53', `--addn-hosts=${hostsFile}`,
      // Authoritative for the test domain: a name without records is NXDOMAIN (no AAAA: NODATA), as in a cluster.
      '--local=/test/', '--local-ttl=1', '--log-facility=-', '--pid-file=',
      // Stay root: the records file lives in a private temporary folder 'nobody' cannot read.
      '--user=root'],
    { reject: false, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // dnsmasq logs "started, version ..." once it listens.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dnsmasq did not start within ${DNSMASQ_READY_MS} ms`)), DNSMASQ_READY_MS);
    const lines = createInterface({ input: dnsmasq.stderr! });
    lines.on('line', (line) => {
      if (!line.includes('started, version')) return;
      clearTimeout(timer);
      resolve();
    });
    void dnsmasq.then((r) => {
      clearTimeout(timer);
      reject(new Error(`dnsmasq exited (${r.exitCode}): ${String(r.stderr)}`));
    });
  });
  const resolver = new Resolver({ timeout: 1_000, tries: 2 });
  resolver.setServers([address]);
  const resolve = async (name: string) => (await resolver.resolve4(name).catch(() => [] as string[])).sort();
  const records = new Map<string, readonly string[]>();
  const dns: TestDns = {
    server: address,
    resolve,
    async setRecords(name, addresses) {
      records.set(name, addresses);
      writeFileSync(hostsFile, [...records].flatMap(([n, list]) => list.map((a) => `${a} ${n}`)).join('\n') + '\n');
      dnsmasq.kill('SIGHUP'); // re-read the hosts file
      const wanted = JSON.stringify([...addresses].sort());
      const deadline = Date.now() + DNSMASQ_READY_MS;
      while (JSON.stringify(await resolve(name)) !== wanted) {
        if (Date.now() > deadline) throw new Error(`dnsmasq did not serve ${name} -> ${wanted} within ${DNSMASQ_READY_MS} ms`);
      }
    },
  };
  return { dns, dnsmasq };
}
