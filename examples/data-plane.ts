// The data plane: run with `npx snakepit run examples/data-plane.ts --config examples/data-plane.config.ts`
// (guides/data-plane.md; the adapter is examples/python/data_plane_adapter.py). Needs apache-arrow
// (`npm install apache-arrow`) and numpy + pyarrow in the workers' Python.
import { Table, tableFromArrays } from 'apache-arrow';
import { isSnakepitError, Tensor, type Snakepit } from 'snakepit';

export default async function main(sp: Snakepit): Promise<void> {
  // #region tensor
  const x = new Tensor('float32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6]));
  const y = await sp.execute<Tensor<'float32'>>('scale', { x, factor: 10 });
  console.log(y.dtype, y.shape, y.data); // float32 [ 2, 3 ] Float32Array(6) [ 10, 20, 30, 40, 50, 60 ]
  // #endregion tensor

  // #region zero-copy
  const n = 1024; // 8 MiB of float64 weights, written to /dev/shm once for all the calls
  const weights = sp.zeroCopy(new Tensor('float64', [n, n], new Float64Array(n * n).fill(1 / n)));
  try {
    const results = await Promise.all([1, 2, 3].map((k) =>
      sp.execute<Tensor<'float64'>>('apply', { weights, x: new Tensor('float64', [n], new Float64Array(n).fill(k)) })));
    console.log('weights @ x:', results.map((r) => r.data[0])); // [ 1, 2, 3 ]
  } finally {
    weights.close(); // removes the file; stop() removes refs left open
  }
  // #endregion zero-copy

  // #region arrow-result
  const sales = await sp.execute<Table>('sales', { n: 200_000 }); // ~6 MB of IPC: through /dev/shm
  console.log(sales instanceof Table, sales.numRows); // true 200000
  console.log(sales.schema.fields.map((f) => `${f.name}: ${f.type}`).join(', '));
  // id: Int64, region: Dictionary<Int32, Utf8>, amount: Float64, at: Timestamp<SECOND>, note: Utf8
  const first = sales.get(0)!;
  console.log(first.id, first.region, new Date(first.at).toISOString(), first.note); // 0n south 2024-05-01T00:00:00.000Z null
  // #endregion arrow-result

  // #region arrow-argument
  const orders = tableFromArrays({ region: ['north', 'south', 'north'], amount: new Float64Array([10, 20, 5]) });
  const totals = await sp.execute<Table>('totals', { table: orders }); // a pyarrow.Table in Python
  console.log(JSON.stringify(totals.toArray())); // [{"region":"north","amount_sum":15},{"region":"south","amount_sum":20}]
  // #endregion arrow-argument

  // #region limit
  try {
    await sp.execute('scale', { x: new Tensor('uint8', [48 * 1024 * 1024], new Uint8Array(48 * 1024 * 1024)) });
  } catch (error) {
    // Refused before anything was sent: 48 MiB is over maxPayloadBytes (32 MiB in this config).
    if (isSnakepitError(error) && error.code === 'payload_too_large') {
      const { sizeBytes, limitBytes, side } = error.details as { sizeBytes: number; limitBytes: number; side: string };
      console.log(`refused on the ${side}: ${(sizeBytes / 2 ** 20).toFixed(0)} MiB > ${limitBytes / 2 ** 20} MiB`);
    }
  }
  // #endregion limit
}
