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

/**
 * The variables the thread profile sets to `threadsPerWorker`, as the original does (its thread
 * profile sets these four, not `VECLIB_MAXIMUM_THREADS`): few processes, each allowed to use
 * several cores. Unlike the process profile's limits, a value the user set, in `adapterEnv` or
 * in the host's environment, is kept.
 */
export const THREAD_PROFILE_LIMIT_VARS: readonly string[] = Object.freeze([
  'OPENBLAS_NUM_THREADS',
  'OMP_NUM_THREADS',
  'MKL_NUM_THREADS',
  'NUMEXPR_NUM_THREADS',
]);

/** `threadLimits` keys and the variables they set. */
export const THREAD_LIMIT_ENV = Object.freeze({
  openblas: 'OPENBLAS_NUM_THREADS',
  omp: 'OMP_NUM_THREADS',
  mkl: 'MKL_NUM_THREADS',
  numexpr: 'NUMEXPR_NUM_THREADS',
  veclib: 'VECLIB_MAXIMUM_THREADS',
} as const);

/** A pool's `threadLimits`. */
export type ThreadLimits = Partial<Record<keyof typeof THREAD_LIMIT_ENV, number>>;

/** Read by the Python worker: `1` (log findings) or `strict` (raise them); see guides/threading.md. */
export const THREAD_SAFETY_CHECKS_ENV = 'SNAKEPIT_THREAD_SAFETY_CHECKS';

/** Read by the Python worker: `0` lets a thread-profile worker run an adapter that does not declare thread safety. */
export const REQUIRE_THREAD_SAFE_ENV = 'SNAKEPIT_REQUIRE_THREAD_SAFE';

/** Read by the Python worker at start: `batch` runs it under `SCHED_BATCH` (the pool's `schedulingPolicy`). */
export const SCHED_POLICY_ENV = 'SNAKEPIT_SCHED_POLICY';

/** Read by the Python worker: how long a host tool may take when the call names no timeout (docs/protocol.md). */
export const HOST_TOOL_TIMEOUT_ENV = 'SNAKEPIT_HOST_TOOL_TIMEOUT_MS';

export interface WorkerEnvOptions {
  profile: 'process' | 'thread';
  adapterEnv: Readonly<Record<string, string>>;
  /** Extra folders for PYTHONPATH, before the inherited one. */
  pythonPath: readonly string[];
  pythonLogLevel: string;
  /** Thread profile: the value of the BLAS/OpenMP thread variables. Unset: they are left alone. */
  threadsPerWorker?: number;
  /** Thread profile: turn on the worker's thread-safety checks. @default false */
  threadSafetyChecks?: boolean;
  /** Thread profile: `false` lets the worker run an adapter that does not declare thread safety. @default true */
  requireThreadSafeAdapter?: boolean;
  /** The instance's `hostToolTimeoutMs`: Python's wait bound for host tools without their own timeout. Unset: Python's 30 s. */
  hostToolTimeoutMs?: number;
  /** The pool's `schedulingPolicy`, over any inherited value. Unset: the variable is left as inherited. */
  schedulingPolicy?: 'batch' | 'inherit';
  /** Explicit thread limits: over the profile's (and the host's), under `adapterEnv`. @default {} */
  threadLimits?: ThreadLimits;
  base?: NodeJS.ProcessEnv;
}

/** Host env, then thread limits, then the user's `adapterEnv`; PYTHONPATH gets the bridge first. */
export function buildWorkerEnv(options: WorkerEnvOptions): Record<string, string> {
  const base = options.base ?? process.env;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  if (options.profile === 'process') Object.assign(env, PROCESS_PROFILE_THREAD_LIMITS);
  else Object.assign(env, threadProfileEnv(options, env));
  for (const [key, limit] of Object.entries(options.threadLimits ?? {})) if (limit !== undefined) env[THREAD_LIMIT_ENV[key as keyof ThreadLimits]] = String(limit);
  Object.assign(env, options.adapterEnv);
  const inherited = options.adapterEnv.PYTHONPATH ?? base.PYTHONPATH;
  env.PYTHONPATH = [bridgePythonPath(), ...options.pythonPath.map((p) => path.resolve(p)), ...(inherited ? [inherited] : [])].join(path.delimiter);
  // Line-buffered output so print() reaches the host log as it happens.
  env.PYTHONUNBUFFERED = '1';
  env.SNAKEPIT_LOG_LEVEL ??= options.pythonLogLevel;
  if (options.hostToolTimeoutMs !== undefined) env[HOST_TOOL_TIMEOUT_ENV] = String(options.hostToolTimeoutMs);
  if (options.schedulingPolicy !== undefined) env[SCHED_POLICY_ENV] = options.schedulingPolicy;
  return env;
}

/** The thread profile's additions, skipping what the host env already has (adapterEnv wins later). */
function threadProfileEnv(options: WorkerEnvOptions, inherited: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  if (options.threadsPerWorker !== undefined) {
    for (const name of THREAD_PROFILE_LIMIT_VARS) if (inherited[name] === undefined) out[name] = String(options.threadsPerWorker);
  }
  // The worker's argv is the pool's business; the checks travel in the environment instead.
  if (options.threadSafetyChecks && inherited[THREAD_SAFETY_CHECKS_ENV] === undefined) out[THREAD_SAFETY_CHECKS_ENV] = '1';
  // The config decides (an inherited value is not kept): Python refuses undeclared adapters unless told.
  out[REQUIRE_THREAD_SAFE_ENV] = options.requireThreadSafeAdapter === false ? '0' : '1';
  return out;
}
