// The kubernetes guide's pool config loads and resolves with its discovery and security options as written.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';

describe('kubernetes example config', () => {
  it('examples/kubernetes.config.ts: workers discovered by DNS, with mTLS material, a server name and a token file', async () => {
    const { config } = await loadConfig({ file: 'examples/kubernetes.config.ts' });
    const [ml] = config.pools;
    expect(ml).toMatchObject({
      name: 'ml',
      transport: 'grpc',
      insecure: false,
      discovery: { dns: 'snakepit-workers.ml.svc.cluster.local:50051', intervalMs: 5_000, healthCheckTimeoutMs: 5_000 },
      tls: { ca: '/etc/snakepit/tls/ca.crt', cert: '/etc/snakepit/tls/tls.crt', key: '/etc/snakepit/tls/tls.key', serverName: 'snakepit-workers.ml.svc' },
      token: { file: '/etc/snakepit/token/token' },
    });
    expect(ml?.workers).toBeUndefined();
    expect(ml?.discovery?.dnsServers).toBeUndefined(); // the pod's own resolvers (/etc/resolv.conf)
  });
});
