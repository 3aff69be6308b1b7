/**
 * `npx tsx bench/map-chunks.ts`: the measurements behind `chunkSize: 'auto'` (src/pool/chunk-sizer.ts).
 * Inputs/s of one map for fixed chunk sizes and for 'auto': tiny echoes (where the count bound
 * matters) and 100 µs inputs (where the time target matters), 2 workers, each figure the best of
 * BENCH_MAP_ROUNDS (2); BENCH_MAP_SIZES=256,auto picks the sizes. Not part of `npm run bench`: it explains a default, it is no target.
 */
import { benchPool, startPool } from './sections/common.js';

const ROUNDS = Number(process.env.BENCH_MAP_ROUNDS ?? 2);
const SIZES: (number | 'auto')[] = (process.env.BENCH_MAP_SIZES ?? '1,4,16,64,256,1024,4096,16384,auto').split(',').map((s) => (s === 'auto' ? 'auto' : Number(s)));

async function rate(transport: 'pipe' | 'grpc', tool: string, items: number, chunkSize: number | 'auto', args: Record<string, unknown>): Promise<number> {
  const sp = await startPool(benchPool({ transport }));
  try {
    const inputs = Array.from({ length: items }, () => args);
    await sp.map(tool, inputs.slice(0, Math.min(items, 5_000)), { chunkSize });
    let best = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const start = process.hrtime.bigint();
      await sp.map(tool, inputs, { chunkSize });
      best = Math.max(best, items / (Number(process.hrtime.bigint() - start) / 1e9));
    }
    return best;
  } finally {
    await sp.stop();
  }
}

const cases = [
  { name: 'tiny echo', tool: 'echo', items: 100_000, args: { value: 'x' }, sizes: SIZES.filter((s) => s === 'auto' || s >= 16) },
  { name: '100 µs inputs', tool: 'spin', items: 10_000, args: { us: 100 }, sizes: SIZES.filter((s) => s === 'auto' || s <= 1024) },
];
for (const transport of ['pipe', 'grpc'] as const) {
  for (const c of cases) {
    const line: string[] = [];
    for (const size of c.sizes) line.push(`${size}: ${Math.round(await rate(transport, c.tool, c.items, size, c.args))}`);
    process.stdout.write(`${transport}, ${c.name} (inputs/s by chunkSize): ${line.join(', ')}\n`);
  }
}
