/** Pool options securing the connection to remote (attached) workers: TLS/mTLS, the token, the plaintext opt-in. */
import { z } from 'zod';
import { expecting } from './format-issues.js';

const pemOrPath = () => expecting(z.string().min(1), 'PEM text or the path of a PEM file');
const nonEmpty = () => expecting(z.string().min(1), 'a non-empty string');

const tlsSchema = z
  .strictObject({
    /** CA certificate(s) the workers' certificates must chain to; unset: the system's roots. PEM text or a file path. */
    ca: pemOrPath().optional().describe("CA certificate(s) the workers' certificates must chain to (PEM text or file path); unset: the system roots."),
    /** This host's certificate, for workers that require mTLS (`--tls-client-ca`). PEM text or a file path. */
    cert: pemOrPath().optional().describe("The host's client certificate for mTLS (PEM text or file path)."),
    /** The private key of `cert`. PEM text or a file path. */
    key: pemOrPath().optional().describe('Private key of `cert` (PEM text or file path).'),
    /** Name the workers' certificates must carry when it is not the address's host (e.g. a Service's DNS name for pod IPs). */
    serverName: nonEmpty().optional().describe("Name expected in the workers' certificates instead of the address's host."),
  })
  .refine((tls) => (tls.cert === undefined) === (tls.key === undefined), {
    message: 'tls.cert and tls.key go together',
    params: { expected: 'both `cert` and `key` (mTLS), or neither' },
  });

const tokenSchema = expecting(
  z.union([
    z.strictObject({ file: nonEmpty() }),
    z.strictObject({ env: expecting(z.string().regex(/^[^=\0]+$/), 'an environment variable name') }),
    z.strictObject({ value: nonEmpty() }),
  ]),
  '{ file: path } | { env: VARIABLE } | { value: string }',
);

/** Spread into the pool's own options (schema.ts). */
export const securityShape = {
  /**
   * TLS to attached workers (`workers`), mutual when `cert` and `key` are set. Each field takes PEM
   * text or a file path (read when the pool starts). Unset: plaintext, which `insecure` must allow
   * for any address that is not loopback or a Unix socket.
   */
  tls: tlsSchema.optional().describe('TLS (mTLS with cert and key) to attached workers; fields take PEM text or a file path.'),
  /**
   * The token attached workers require (`x-snakepit-token`), for every worker of the pool that sets
   * no `token` of its own: read from a file (trimmed), an environment variable, or given as is.
   */
  token: tokenSchema.optional().describe('Token of attached workers: { file } | { env } | { value }; a worker entry\'s own token wins.'),
  /** Allow plaintext gRPC to attached workers on non-loopback addresses (a network protected otherwise). @default false */
  insecure: z.boolean().default(false).describe('Allow plaintext gRPC to non-loopback attached workers.'),
};
