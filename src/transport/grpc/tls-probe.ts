/**
 * One TLS handshake of our own before a TLS channel is made, so that a certificate problem becomes a
 * typed error naming its cause at once. A gRPC channel only reports "failed to connect" when its
 * deadline passes, and keeps redialling (with backoff) meanwhile: a wrong CA would look like a slow
 * worker and cost the whole start-up timeout.
 */
import { isIP } from 'node:net';
import tls from 'node:tls';
import { WorkerError } from '../../errors.js';
import type { TlsMaterial } from './channel-security.js';
import { targetHost } from './channel-security.js';

/** Why a TLS connection to a worker failed. */
export type TlsFailureReason =
  /** The worker's certificate does not chain to `tls.ca` (a wrong CA, a self-signed certificate). */
  | 'untrusted'
  /** The worker's certificate has expired. */
  | 'expired'
  | 'not_yet_valid'
  /** The certificate does not name the address's host (nor `tls.serverName`). */
  | 'name_mismatch'
  /** mTLS: the worker refused this host's certificate (none, another CA's, expired: its alert does not say which). */
  | 'client_cert_rejected'
  /** The worker does not speak TLS on that port. */
  | 'not_tls'
  | 'handshake';

/** The probe's verdict: TLS works, a TLS failure, or nobody answered (left to the channel's own wait). */
export type TlsProbeResult = { ok: true } | { ok: false; reason: TlsFailureReason; tlsCode: string; message: string } | { ok: 'unreachable' };

const REASONS: Readonly<Record<string, TlsFailureReason>> = {
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not_yet_valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'name_mismatch',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted',
  CERT_SIGNATURE_FAILURE: 'untrusted',
  CERT_UNTRUSTED: 'untrusted',
  ERR_SSL_WRONG_VERSION_NUMBER: 'not_tls',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'not_tls',
};
/** Socket errors before any TLS byte came back: the worker is not there (yet). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE']);

function classify(code: string): TlsFailureReason {
  // Alerts the worker sent about our certificate (TLS 1.3 sends them after our side's handshake).
  return REASONS[code] ?? (/^ERR_SSL_.*ALERT_(CERTIFICATE|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE)/.test(code) ? 'client_cert_rejected' : 'handshake');
}

/**
 * Connects to `address` (`host:port`) with the pool's TLS material and waits for the worker's first
 * bytes (its HTTP/2 settings): under TLS 1.3 a refused client certificate only shows then.
 */
export function probeTls(address: string, material: TlsMaterial, timeoutMs: number): Promise<TlsProbeResult> {
  const host = targetHost(address) ?? '';
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const serverName = material.serverName ?? (isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    let secured = false;
    const socket = tls.connect({
      host,
      port,
      ...(serverName ? { servername: serverName } : {}),
      ...(material.serverName ? { checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(material.serverName!, cert) } : {}),
      ca: material.ca,
      cert: material.cert,
      key: material.key,
      ALPNProtocols: ['h2'],
    });
    const done = (result: TlsProbeResult) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {}); // late errors of a socket we are closing
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(secured ? { ok: true } : { ok: 'unreachable' }), timeoutMs);
    socket.once('secureConnect', () => (secured = true));
    socket.once('data', () => done({ ok: true }));
    socket.once('end', () => done(secured ? { ok: false, reason: 'client_cert_rejected', tlsCode: 'closed', message: 'the worker closed the connection after the handshake' } : { ok: 'unreachable' }));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'unknown';
      if (!secured && UNREACHABLE.has(code)) return done({ ok: 'unreachable' });
      done({ ok: false, reason: secured && code === 'ECONNRESET' ? 'client_cert_rejected' : classify(code), tlsCode: code, message: error.message });
    });
  });
}

/**
 * Throws `tls_failed` (naming the worker, its address and the reason) when TLS to `address` fails;
 * returns when it works or nobody answers (left to the channel's own wait).
 */
export async function checkTls(address: string, material: TlsMaterial, timeoutMs: number, workerId: string): Promise<void> {
  const probe = await probeTls(address, material, timeoutMs);
  if (probe.ok === true || probe.ok === 'unreachable') return;
  throw new WorkerError(`TLS to worker ${workerId} at ${address} failed (${probe.reason}): ${probe.message}`, 'tls_failed', {
    workerId,
    address,
    reason: probe.reason,
    tlsCode: probe.tlsCode,
  });
}
