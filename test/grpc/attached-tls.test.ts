// Attached workers behind TLS, mTLS and a token (the container worker server on 127.0.0.1): what works,
// and the typed errors of what does not: wrong CA, expired certificate, wrong name, no client certificate,
// wrong token, plaintext to a non-loopback address.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Snakepit, type SnakepitConfigInput } from '../../src/index.js';
import { makeCerts, SERVED_TOKEN, startServedWorker, stopServed, tlsFlags, type CertDir, type ServedWorker } from '../helpers/served.js';

const ECHO = 'echo_adapter.EchoAdapter';

function start(pool: Record<string, unknown>): Promise<Snakepit> {
  const config = { pools: [{ name: 'default', transport: 'grpc', poolStartupTimeoutMs: 15_000, ...pool }] } as SnakepitConfigInput;
  return Snakepit.start(config, { logSink: () => {} });
}

describe('attached workers over TLS', () => {
  let dir: string;
  let good: CertDir;
  let other: CertDir;
  let expired: CertDir;
  let tls: ServedWorker;
  let mtls: ServedWorker;
  let expiredTls: ServedWorker;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-tls-'));
    good = makeCerts(path.join(dir, 'good'), ['127.0.0.1', 'localhost']);
    other = makeCerts(path.join(dir, 'other'), ['127.0.0.1']);
    expired = makeCerts(path.join(dir, 'expired'), ['127.0.0.1'], { days: -1, caDir: good.dir });
    [tls, mtls, expiredTls] = await Promise.all([
      startServedWorker({ dir, name: 'tls', listen: '127.0.0.1:0', adapter: ECHO, args: tlsFlags(good) }),
      startServedWorker({ dir, name: 'mtls', listen: '127.0.0.1:0', adapter: ECHO, args: tlsFlags(good, true) }),
      startServedWorker({ dir, name: 'expired', listen: '127.0.0.1:0', adapter: ECHO, args: tlsFlags(expired) }),
    ]);
  });
  afterAll(async () => {
    await stopServed([tls, mtls, expiredTls]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs calls over TLS (CA as a file path) and mTLS (PEM text), the token from a file', async () => {
    const tokenFile = path.join(dir, 'token');
    await import('node:fs/promises').then((fs) => fs.writeFile(tokenFile, `${SERVED_TOKEN}\n`));
    const clientPem = { cert: readFileSync(good.clientCert, 'utf8'), key: readFileSync(good.clientKey, 'utf8') };
    const sp = await start({
      workers: [{ address: tls.address }, { address: mtls.address }],
      tls: { ca: good.ca, ...clientPem },
      token: { file: tokenFile },
    });
    try {
      const pids = await Promise.all([sp.execute('pid'), sp.execute('pid')]);
      expect(pids.sort()).toEqual([tls.pid, mtls.pid].sort());
      await expect(sp.execute('echo', { a: 1 })).resolves.toEqual({ a: 1 });
    } finally {
      await sp.stop();
    }
  });

  it.each([
    ['untrusted', () => ({ workers: [{ address: tls.address }], tls: { ca: other.ca }, token: { value: SERVED_TOKEN } })],
    ['expired', () => ({ workers: [{ address: expiredTls.address }], tls: { ca: good.ca }, token: { value: SERVED_TOKEN } })],
    ['name_mismatch', () => ({ workers: [{ address: tls.address }], tls: { ca: good.ca, serverName: 'not-the-worker.example' }, token: { value: SERVED_TOKEN } })],
    ['client_cert_rejected', () => ({ workers: [{ address: mtls.address }], tls: { ca: good.ca }, token: { value: SERVED_TOKEN } })],
    ['client_cert_rejected', () => ({ workers: [{ address: mtls.address }], tls: { ca: good.ca, cert: other.clientCert, key: other.clientKey }, token: { value: SERVED_TOKEN } })],
    ['client_cert_rejected', () => ({ workers: [{ address: mtls.address }], tls: { ca: good.ca, cert: expired.clientCert, key: expired.clientKey }, token: { value: SERVED_TOKEN } })],
  ] as const)('fails at once with tls_failed (%s), naming the address', async (reason, pool) => {
    const config = pool();
    await expect(start(config)).rejects.toMatchObject({ code: 'tls_failed', category: 'worker', details: { reason, address: config.workers[0]!.address } });
  });

  it('a wrong token is unauthenticated, naming the address', async () => {
    await expect(start({ workers: [{ address: tls.address }], tls: { ca: good.ca }, token: { value: 'wrong' } })).rejects.toMatchObject({
      code: 'unauthenticated',
      details: { address: tls.address, grpcStatus: 'UNAUTHENTICATED' },
    });
  });

  it('refuses plaintext to a non-loopback address before connecting, unless insecure', async () => {
    // 198.51.100.0/24 is TEST-NET-2; the check refuses before any packet is sent.
    await expect(start({ workers: [{ address: '198.51.100.10:50051' }] })).rejects.toMatchObject({
      code: 'insecure_transport',
      category: 'validation',
      details: { address: '198.51.100.10:50051', field: 'tls' },
    });
  });

  it('names the field of an unreadable TLS file or an unset token variable', async () => {
    await expect(start({ workers: [{ address: tls.address }], tls: { ca: path.join(dir, 'missing.crt') } })).rejects.toMatchObject({
      code: 'invalid_config',
      issues: [expect.objectContaining({ path: 'pools["default"].tls.ca' })],
    });
    await expect(start({ workers: [{ address: tls.address }], tls: { ca: good.ca }, token: { env: 'SNAKEPIT_TEST_UNSET_TOKEN_VARIABLE' } })).rejects.toMatchObject({
      code: 'invalid_config',
      issues: [expect.objectContaining({ path: 'pools["default"].token.env' })],
    });
  });
});
