/** The pool option `discovery` (remote workers found by resolving a DNS name, e.g. a headless Service) and where attached workers may come from. */
import { isIP } from 'node:net';
import { z } from 'zod';
import { expecting } from './format-issues.js';

const DNS_LABEL = '[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?';
const NAME_AND_PORT = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*\\.?:(?<port>\\d{1,5})$`);

/** A string refined by `valid`; its "expected" text serves a wrong type and a failed check alike. */
const checkedString = (valid: (value: string) => boolean, expected: string) =>
  expecting(z.string().refine(valid, { message: `expected ${expected}`, params: { expected } }), expected);

const nameAndPort = () =>
  checkedString((value) => {
    const port = Number(NAME_AND_PORT.exec(value)?.groups?.port ?? 0);
    return port >= 1 && port <= 65_535;
  }, "'name:port' (a DNS name and a port from 1 to 65535), e.g. 'snakepit-workers.ml.svc.cluster.local:50051'");

/** `1.2.3.4`, `1.2.3.4:53`, `::1` or `[::1]:53`: what `Resolver.setServers` takes. */
const dnsServer = () =>
  checkedString((value) => {
    const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
    if (bracketed) return isIP(bracketed[1]!) === 6;
    if (isIP(value) !== 0) return true;
    const [host, port] = value.split(':');
    return isIP(host ?? '') === 4 && /^\d{1,5}$/.test(port ?? '');
  }, "an IP address with an optional port: '10.0.0.10', '10.0.0.10:53', '[fd00::a]:53'");

const posInt = () => expecting(z.number().int().min(1), 'an integer >= 1');

const discoverySchema = z.strictObject({
  /** The name whose A and AAAA records are the workers, and their port: `'name:port'`. */
  dns: nameAndPort().describe("DNS name and port of the workers, 'name:port' (a headless Service)."),
  /** Time between two resolutions of the name, in ms. @default 5000 */
  intervalMs: posInt().default(5_000).describe('Time between resolutions of the name, in ms.'),
  /** DNS servers to ask instead of the system's (`/etc/resolv.conf`). @default the system's */
  dnsServers: expecting(z.array(dnsServer()).min(1), 'a non-empty array of DNS server addresses')
    .optional()
    .describe("DNS servers to ask instead of the system's."),
  /** How long the health check of a new address may take before it is tried again next round, in ms. @default 5000 */
  healthCheckTimeoutMs: posInt().default(5_000).describe('Time a new address has to pass its health check, in ms.'),
});

/** Spread into the pool's own options (schema.ts). */
export const discoveryShape = {
  /**
   * Remote workers found by DNS: every `intervalMs` the pool resolves `dns`'s A and AAAA records and
   * keeps exactly one attached worker per address. A new address joins after a gRPC health check
   * (`grpc.health.v1`); one that vanishes stops taking calls, finishes those in flight, then is let go.
   * Capacity is what each worker reports (its `--max-concurrency`). Needs `transport: 'grpc'`; uses the
   * pool's `tls`, `token` and `insecure`; not together with `workers`.
   */
  discovery: discoverySchema.optional().describe('Find attached workers by resolving a DNS name (A/AAAA) every intervalMs.'),
};

/**
 * Attached `workers` and `discovery` are reached over gRPC: a pool (or the legacy top level) with
 * them needs `transport: 'grpc'`; and a pool's workers come from one of the two, not both.
 */
export function checkAttachedTransport(pool: Record<string, unknown>, path: (string | number)[], ctx: z.core.$RefinementCtx): void {
  if (pool.workers !== undefined && pool.discovery !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'discovery'],
      input: pool.discovery,
      message: 'a pool takes `workers` or `discovery`, not both',
      params: { expected: 'unset when `workers` is given (the workers come from one of them)' },
    });
  }
  const field = pool.workers !== undefined ? 'workers' : pool.discovery !== undefined ? 'discovery' : undefined;
  if (field === undefined || pool.transport === 'grpc') return;
  // Named at `transport` when it was given, else at the field the user wrote.
  const given = pool.transport !== undefined;
  ctx.addIssue({
    code: 'custom',
    path: [...path, given ? 'transport' : field],
    input: given ? pool.transport : pool[field],
    message: `attached \`${field}\` need transport 'grpc'`,
    params: { expected: "'grpc' (attached workers are reached over gRPC)" },
  });
}
