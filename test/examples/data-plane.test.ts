// The data-plane guide's example, run through `snakepit run` (guides/data-plane.md): tensors, a
// zero-copy ref, Arrow tables both ways (the same apache-arrow the script imports), the payload limit.
import { expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';

it('examples/data-plane.ts with examples/data-plane.config.ts', async () => {
  const r = await runExample('examples/data-plane.ts', { config: 'examples/data-plane.config.ts', timeoutMs: 90_000 });
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  expect(r.stdout.split('\n')).toEqual([
    'float32 [ 2, 3 ] Float32Array(6) [ 10, 20, 30, 40, 50, 60 ]',
    'weights @ x: [ 1, 2, 3 ]',
    'true 200000',
    'id: Int64, region: Dictionary<Int32, Utf8>, amount: Float64, at: Timestamp<SECOND>, note: Utf8',
    expect.stringMatching(/^0n (north|south) 2024-05-01T00:00:00\.000Z null$/),
    '[{"region":"north","amount_sum":15},{"region":"south","amount_sum":20}]',
    'refused on the host: 48 MiB > 32 MiB',
  ]);
});
