// threadLimits per pool (the original's python_thread_limits): the numeric libraries' thread variables each worker gets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { startPool, TRANSPORT, FIXTURES } from '../helpers/pool.js';

const VARS = ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'NUMEXPR_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS'];
const pool = (name: string, extra: Record<string, unknown>) => ({ name, poolSize: 1, transport: TRANSPORT, adapter: 'echo_adapter.EchoAdapter', pythonPath: [FIXTURES], ...extra });

describe(`threadLimits (${TRANSPORT})`, () => {
  let sp: Snakepit;
  beforeAll(async () => {
    ({ sp } = await startPool({}, {
      pools: [
        pool('defaults', {}),
        pool('limited', { threadLimits: { openblas: 3, veclib: 2 } }),
        pool('threads', { workerProfile: 'thread', threadsPerWorker: 4, threadLimits: { omp: 2 }, requireThreadSafeAdapter: false }),
        pool('env-wins', { threadLimits: { mkl: 2 }, adapterEnv: { MKL_NUM_THREADS: '5' } }),
      ],
    }));
  });
  afterAll(() => sp.stop());

  const envOf = (name: string) => sp.execute<Record<string, string | null>>('env_of', { names: VARS }, { pool: name });

  it("unset: the original's defaults map, one thread each in the process profile", async () => {
    expect(await envOf('defaults')).toEqual(Object.fromEntries(VARS.map((v) => [v, '1'])));
  });

  it('set fields replace the profile default, the others keep it', async () => {
    expect(await envOf('limited')).toMatchObject({ OPENBLAS_NUM_THREADS: '3', VECLIB_MAXIMUM_THREADS: '2', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', NUMEXPR_NUM_THREADS: '1' });
  });

  it('in the thread profile the default is threadsPerWorker', async () => {
    expect(await envOf('threads')).toMatchObject({ OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '4', MKL_NUM_THREADS: '4', NUMEXPR_NUM_THREADS: '4' });
  });

  it("adapterEnv wins over threadLimits", async () => {
    expect(await envOf('env-wins')).toMatchObject({ MKL_NUM_THREADS: '5' });
  });
});
