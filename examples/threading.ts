// The thread profile: `npx snakepit run examples/threading.ts --config examples/threading.config.ts`.
// The TypeScript blocks of guides/threading.md are regions of this file.
import type { Snakepit } from 'snakepit';

export default async function main(sp: Snakepit): Promise<void> {
  // #region quick-start
  await sp.execute('matrix_multiply', { n: 300 }, { pool: 'hpc' });
  const stats = await sp.execute<Record<string, unknown>>('get_adapter_stats', {}, { pool: 'hpc' });
  console.log('hpc stats', JSON.stringify(stats));
  // #endregion quick-start

  // #region stress
  const results = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => sp.execute<{ prediction: number }>('predict', { input_data: `input_${i % 100}` }, { pool: 'ml' })),
  );
  // #endregion stress
  console.log('predictions', results.length, results.every((r, i) => r.prediction === `input_${i % 100}`.length));
  const worker = sp.listWorkers('ml')[0];
  console.log('ml worker capacity', worker?.capacity);
  const ml = await sp.execute<{ request_count: number; peak_active_requests: number; max_workers: number }>('adapter_stats', {}, { pool: 'ml' });
  console.log('ml stats', JSON.stringify({ requestCount: ml.request_count, peakActive: ml.peak_active_requests, maxWorkers: ml.max_workers }));
}
