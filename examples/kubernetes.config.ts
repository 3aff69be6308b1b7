// The kubernetes guide's pool: Python workers in a cluster, found through the headless Service's DNS
// name (one worker per pod) and reached over mTLS with a token.
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [
    // #region pool
    {
      name: 'ml',
      transport: 'grpc',
      // One worker per A/AAAA record of the headless Service, read again every 5 s.
      discovery: { dns: 'snakepit-workers.ml.svc.cluster.local:50051', intervalMs: 5_000 },
      // PEM text or file paths (here: the host's own mounted Secret).
      tls: {
        ca: '/etc/snakepit/tls/ca.crt',
        cert: '/etc/snakepit/tls/tls.crt', // mTLS: the workers run with --tls-client-ca
        key: '/etc/snakepit/tls/tls.key',
        serverName: 'snakepit-workers.ml.svc', // the name the workers' certificate carries
      },
      token: { file: '/etc/snakepit/token/token' }, // or { env: 'SNAKEPIT_TOKEN' }
      // No threadsPerWorker: each pod says how many calls it runs at once (its --max-concurrency).
    },
    // #endregion pool
  ],
});
