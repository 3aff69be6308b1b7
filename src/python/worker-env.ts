/** The environment a worker process starts with. */
import path from 'node:path';
import { bridgePythonPath } from './runtime.js';

/**
 * BLAS/OpenMP pools default to one thread per process in the process profile: N workers × M
 * threads each oversubscribes the cores. The user's `adapterEnv` overrides these.
 */
export const PROCESS_PROFILE_THREAD_LIMITS: Readonly<Record<string, string>> = Object.freeze({
  OPENBLAS_NUM_THREADS: '1',
  MKL_NUM_THREADS: '1',
  OMP_NUM_THREADS: '1',
  NUMEXPR_NUM_THREADS: '1',
  VECLIB_MAXIMUM_THREADS: '1',
});

export interface WorkerEnvOptions {
  profile: 'process' | 'thread';
  adapterEnv: Readonly<Record<string, string>>;
  /** Extra folders for PYTHONPATH, before the inherited one. */
  pythonPath: readonly string[];
  pythonLogLevel: string;
  base?: NodeJS.ProcessEnv;
}

/** Host env, then thread limits, then the user's `adapterEnv`; PYTHONPATH gets the bridge first. */
export function buildWorkerEnv(options: WorkerEnvOptions): Record<string, string> {
  const base = options.base ?? process.env;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  if (options.profile === 'process') Object.assign(env, PROCESS_PROFILE_THREAD_LIMITS);
  Object.assign(env, options.adapterEnv);
  const inherited = options.adapterEnv.PYTHONPATH ?? base.PYTHONPATH;
  env.PYTHONPATH = [bridgePythonPath(), ...options.pythonPath.map((p) => path.resolve(p)), ...(inherited ? [inherited] : [])].join(path.delimiter);
  // Line-buffered output so print() reaches the host log as it happens.
  env.PYTHONUNBUFFERED = '1';
  env.SNAKEPIT_LOG_LEVEL ??= options.pythonLogLevel;
  return env;
}
