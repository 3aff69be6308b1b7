/**
 * DNS discovery of a pool's remote workers (`discovery: { dns, intervalMs }`): every `intervalMs`
 * the name's A and AAAA records are resolved and the pool keeps exactly one attached worker per
 * address. Each address gets a worker slot of its own for as long as it is listed (crash counts
 * and taints follow the address); a new one joins after a health check, a vanished one is handed
 * to the pool to drain. The pool speaks to it in verbs: `start`, `take`, `lost`, `remove`, `stop`.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ResolvedPoolConfig } from '../config/index.js';
import { isSnakepitError, PoolError } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkTarget } from '../transport/grpc/channel-security.js';
import { checkHealth } from '../transport/grpc/health-check.js';
import type { AttachedEndpoint } from '../worker/endpoints.js';
import { PERMANENT_START_FAILURES } from './replacements.js';

/** The resolved `discovery` option. */
export type DiscoverySettings = NonNullable<ResolvedPoolConfig['discovery']>;

/** Every worker's endpoint but its address: the pool's token, TLS, payload limit and keepalive. */
export type EndpointTemplate = Omit<AttachedEndpoint, 'address'>;

/** The addresses (`host:port`, `[v6]:port`) the name resolves to now, sorted; [] when it has none. */
export type ResolveAddresses = () => Promise<string[]>;

/** Resolves when the worker at `address` is ready for calls; rejects typed otherwise (`health-check.ts`). */
export type HealthCheck = typeof checkHealth;

/** What discovery asks of its pool. */
export interface DiscoveryHooks {
  /** Attaches the worker of `slot` (its address passed the health check); resolves once it is ready. */
  join(slot: number): Promise<unknown>;
  /** `slot`'s address left the answer: its worker takes no new calls, finishes those it has, then goes. */
  leave(slot: number): void;
  /** The set of addresses changed (the pool's size). */
  changed(): void;
  logger: Logger;
}

/** DNS answers that mean "no such records" (the name has no workers now), as opposed to a failing server. */
const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);
const RESOLVE_TIMEOUT_MS = 2_000;

/** Resolves `name` with `servers` (default: the system's), A and AAAA, as `host:port` addresses. */
export function dnsResolver(name: string, port: number, servers?: readonly string[]): ResolveAddresses {
  const resolver = new Resolver({ timeout: RESOLVE_TIMEOUT_MS, tries: 2 });
  if (servers) resolver.setServers(servers);
  return async () => {
    const answers = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    const found = answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
    const failures = answers.filter((a): a is PromiseRejectedResult => a.status === 'rejected').map((a) => a.reason as NodeJS.ErrnoException);
    // A failing server must not look like an empty answer (the workers would all be drained); a
    // family that fails while the other answers is taken as none (some servers refuse AAAA).
    const broken = failures.find((e) => !NO_RECORDS.has(e.code ?? ''));
    if (broken && found.length === 0) throw broken;
    return found.map((ip) => (isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`)).sort();
  };
}

type EntryState = 'vacant' | 'joining' | 'attached' | 'removed';

interface Entry {
  slot: number;
  endpoint: AttachedEndpoint;
  state: EntryState;
  /** Failed joins in a row (the first is logged as a warning, the rest at debug level). */
  failures: number;
}

/** One pool's discovery. */
export class Discovery {
  readonly #byAddress = new Map<string, Entry>();
  readonly #bySlot = new Map<number, Entry>();
  readonly #resolve: ResolveAddresses;
  readonly #check: HealthCheck;
  #nextSlot = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #resolveFailing = false;

  constructor(
    readonly pool: string,
    readonly settings: DiscoverySettings,
    readonly template: EndpointTemplate,
    readonly hooks: DiscoveryHooks,
    /** The DNS lookup and the health check (tests give their own). @default the name's A/AAAA records, `grpc.health.v1` */
    using: { resolve?: ResolveAddresses; check?: HealthCheck } = {},
  ) {
    const colon = settings.dns.lastIndexOf(':');
    this.#resolve = using.resolve ?? dnsResolver(settings.dns.slice(0, colon), Number(settings.dns.slice(colon + 1)), settings.dnsServers);
    this.#check = using.check ?? checkHealth;
  }

  /** Worker slots: the addresses listed now (a slot the crash barrier removed included). */
  get size(): number {
    return this.#byAddress.size;
  }

  /** Listed addresses the crash barrier removed (counted in `size`). */
  get removed(): number {
    return [...this.#byAddress.values()].filter((e) => e.state === 'removed').length;
  }

  /** Addresses listed now, by slot. */
  addresses(): Map<number, string> {
    return new Map([...this.#bySlot].map(([slot, e]) => [slot, e.endpoint.address]));
  }

  /**
   * The first round: resolves the name and joins every address. Rejects with `discovery_failed`
   * when the name does not resolve or no address could join, and with the failure itself when it
   * cannot get better by waiting (a TLS, token or plaintext problem: the config must change).
   * Then a round follows every `intervalMs`.
   */
  async start(): Promise<void> {
    let addresses: string[];
    try {
      addresses = await this.#resolve();
    } catch (error) {
      throw this.#failed(`cannot resolve ${this.settings.dns}: ${(error as Error).message}`, error);
    }
    if (addresses.length === 0) throw this.#failed(`${this.settings.dns} has no A or AAAA records`);
    const errors = (await Promise.all(this.#apply(addresses))).filter((e): e is Error => e !== undefined);
    const hopeless = errors.find((e) => isSnakepitError(e) && PERMANENT_START_FAILURES.has(e.code));
    if (hopeless) throw hopeless;
    if (![...this.#byAddress.values()].some((e) => e.state === 'attached')) {
      throw this.#failed(`no worker of ${this.settings.dns} could join (${addresses.join(', ')}): ${errors[0]?.message ?? 'none ready'}`, errors[0]);
    }
    this.#schedule();
  }

  /** Stops resolving (the pool stops). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** The endpoint of `slot`'s address (for the worker the pool attaches there). */
  take(slot: number): AttachedEndpoint {
    const entry = this.#bySlot.get(slot);
    if (!entry) throw new PoolError(`Pool ${this.pool}: no discovered address in slot ${slot}`, 'pool_stopped', { pool: this.pool, slot });
    return entry.endpoint;
  }

  /** Discovered endpoints are not shared out one by one: nothing to give back. */
  release(): void {}

  /** `slot`'s worker is gone (crashed, disconnected, drained): while listed, it joins again next round. */
  lost(slot: number): void {
    const entry = this.#bySlot.get(slot);
    if (entry?.state === 'attached') entry.state = 'vacant';
  }

  /** The crash barrier removed `slot`: its address never joins again while it stays listed. */
  remove(slot: number): void {
    const entry = this.#bySlot.get(slot);
    if (entry) entry.state = 'removed';
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#round(), this.settings.intervalMs);
    this.#timer.unref();
  }

  /** One later round: a DNS failure keeps the current workers (the next round tries again). */
  async #round(): Promise<void> {
    try {
      const addresses = await this.#resolve();
      if (this.#resolveFailing) this.hooks.logger.info(`Pool ${this.pool}: ${this.settings.dns} resolves again`, { pool: this.pool });
      this.#resolveFailing = false;
      // Joins go on in the background: a slow one must not hold up the drains of the next round.
      if (!this.#stopped) this.#apply(addresses);
    } catch (error) {
      if (!this.#resolveFailing) this.hooks.logger.warn(`Pool ${this.pool}: cannot resolve ${this.settings.dns} (${(error as Error).message}); keeping its ${this.size} address(es)`, { pool: this.pool });
      this.#resolveFailing = true;
    } finally {
      this.#schedule();
    }
  }

  /** Makes the slots match `addresses`: vanished ones leave, new and vacant ones join (each settling with its failure, if any). */
  #apply(addresses: readonly string[]): Promise<Error | undefined>[] {
    const listed = new Set(addresses);
    let changed = false;
    for (const [address, entry] of this.#byAddress) {
      if (listed.has(address)) continue;
      this.#byAddress.delete(address);
      this.#bySlot.delete(entry.slot);
      changed = true;
      // A join under way sees its entry gone when it completes, and hands the worker back then.
      if (entry.state === 'attached') this.hooks.leave(entry.slot);
    }
    for (const address of addresses) {
      if (this.#byAddress.has(address)) continue;
      const entry: Entry = { slot: this.#nextSlot++, endpoint: { ...this.template, address }, state: 'vacant', failures: 0 };
      this.#byAddress.set(address, entry);
      this.#bySlot.set(entry.slot, entry);
      changed = true;
    }
    if (changed) this.hooks.changed();
    return [...this.#byAddress.values()].filter((e) => e.state === 'vacant').map((e) => this.#join(e));
  }

  /** Health check, then the pool attaches the worker; a failure leaves the slot vacant for the next round. */
  async #join(entry: Entry): Promise<Error | undefined> {
    entry.state = 'joining';
    const { address } = entry.endpoint;
    try {
      checkTarget(address, this.template.security ?? { insecure: false }, this.pool);
      await this.#check(address, this.template.security, this.settings.healthCheckTimeoutMs, `${this.pool}@${address}`);
      await this.hooks.join(entry.slot);
    } catch (error) {
      if (entry.state === 'joining') entry.state = 'vacant';
      const level = entry.failures++ === 0 ? 'warn' : 'debug';
      this.hooks.logger[level](`Pool ${this.pool}: ${address} did not join (${(error as Error).message}); trying again in ${this.settings.intervalMs} ms`, { pool: this.pool, address });
      return error as Error;
    }
    entry.failures = 0;
    if (this.#bySlot.get(entry.slot) === entry && entry.state === 'joining') entry.state = 'attached';
    // Delisted while it joined (or the pool stops): it goes again at once.
    else this.hooks.leave(entry.slot);
    return undefined;
  }

  #failed(why: string, cause?: unknown): PoolError {
    return new PoolError(`Pool ${this.pool}: discovery failed: ${why}`, 'discovery_failed', { pool: this.pool, dns: this.settings.dns }, cause);
  }
}
