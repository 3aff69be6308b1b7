// The kubernetes guide's pool: Python workers in a cluster, reached over mTLS with a token.
// The addresses are the pods' stable names of a StatefulSet (or pod IPs); discovery by the
// headless Service's name comes with issue 21 part B.
import { defineConfig } from 'snakepit';

const workers = [
  'snakepit-worker-0.snakepit-workers.ml.svc.cluster.local:50051',
  'snakepit-worker-1.snakepit-workers.ml.svc.cluster.local:50051',
];

export default defineConfig({
  pools: [
    // #region pool
    {
      name: 'ml',
      transport: 'grpc',
      workers: workers.map((address) => ({ address })),
      // PEM text or file paths (here: the host's own mounted Secret).
      tls: {
        ca: '/etc/snakepit/tls/ca.crt',
        cert: '/etc/snakepit/tls/tls.crt', // mTLS: the workers run with --tls-client-ca
        key: '/etc/snakepit/tls/tls.key',
        serverName: 'snakepit-workers.ml.svc', // the name the workers' certificate carries
      },
      token: { file: '/etc/snakepit/token/token' }, // or { env: 'SNAKEPIT_TOKEN' }
      workerProfile: 'thread',
      threadsPerWorker: 4, // the workers' --max-concurrency
    },
    // #endregion pool
  ],
});
