// The worker-profiles guide's example, run through `snakepit run` as guides/worker-profiles.md tells users to.
import { describe, expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';

const LIMIT_VARS = ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'NUMEXPR_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS'];

describe('worker-profiles example', () => {
  it('examples/worker-profiles.ts: capacity, concurrency and thread limits of a process and a thread pool', async () => {
    // The host's own thread variables would be kept by the thread profile: run without them, as the guide shows.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !LIMIT_VARS.includes(key)));
    const r = await runExample('examples/worker-profiles.ts', { config: 'examples/worker-profiles.config.ts', env });
    expect(r.exitCode).toBe(0);
    // The only thing on stderr may be the thread profile's start-up advice on a Python with a GIL.
    for (const line of r.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^\[snakepit cpu-1\] warn: WARNING snakepit_bridge\.thread_profile: /);
    const lines = r.stdout.split('\n').map((line) => line.replace(/ {2,}/, ' '));
    expect(lines).toEqual([
      'io capacity {"workers":2,"perWorker":[1,1]}',
      'cpu capacity {"workers":1,"perWorker":[4]}',
      'cpu: 4 calls ran in {"processes":1,"threads":4}',
      'io: 2 calls ran in {"processes":2,"threads":1}',
      'io thread limits {"OMP_NUM_THREADS":"1","OPENBLAS_NUM_THREADS":"1","MKL_NUM_THREADS":"1","NUMEXPR_NUM_THREADS":"1","VECLIB_MAXIMUM_THREADS":"1"}',
      'cpu thread limits {"OMP_NUM_THREADS":"4","OPENBLAS_NUM_THREADS":"4","MKL_NUM_THREADS":"1","NUMEXPR_NUM_THREADS":"4","VECLIB_MAXIMUM_THREADS":null}',
    ]);
  });
});
