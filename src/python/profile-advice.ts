/**
 * Which worker profile fits a Python runtime and a pool, with the reasons: for `snakepit doctor`
 * and `snakepit profile-inspector`. Pure functions of what the workers report (`ReadyInfo.runtime`).
 */
import { availableParallelism } from 'node:os';
import type { PythonRuntimeWire } from '../transport/types.js';

/** A worker's interpreter, as far as threads go. */
export interface PythonRuntimeInfo {
  /** e.g. `'3.13.1'`. */
  version: string;
  /** Whether the GIL is on now (always true before 3.13; a free-threaded build may turn it back on). */
  gilEnabled: boolean;
  /** A free-threaded build (`python3.13t` and later). */
  freeThreading: boolean;
}

/** What a workload mostly does; decides whether threads help on a GIL Python. */
export type Workload =
  /** Pure-Python CPU work: threads help only without the GIL. */
  | 'python_cpu'
  /** Time spent in code that releases the GIL: numpy/BLAS, most C extensions. */
  | 'gil_releasing'
  /** Waiting on I/O (network, disk). */
  | 'io';

/** How well a library copes with several threads using it (the original's compatibility matrix). */
export type ThreadSafety = 'safe' | 'conditional' | 'unsafe';

/** Known libraries, by import or distribution name, with a note on how to use them from threads. */
export const LIBRARY_THREAD_SAFETY: Readonly<Record<string, { threadSafe: ThreadSafety; notes: string }>> = Object.freeze({
  numpy: { threadSafe: 'safe', notes: 'releases the GIL in most array operations' },
  scipy: { threadSafe: 'safe', notes: 'releases the GIL in numerical routines' },
  numexpr: { threadSafe: 'safe', notes: 'releases the GIL while evaluating' },
  torch: { threadSafe: 'safe', notes: 'share a model in eval mode; set torch.set_num_threads()' },
  tensorflow: { threadSafe: 'safe', notes: 'configure tf.config.threading' },
  onnxruntime: { threadSafe: 'safe', notes: 'one InferenceSession may serve several threads' },
  polars: { threadSafe: 'safe', notes: 'immutable frames, own thread pool' },
  requests: { threadSafe: 'safe', notes: 'one Session per thread' },
  httpx: { threadSafe: 'safe', notes: 'clients may be shared' },
  grpcio: { threadSafe: 'safe', notes: 'channels may be shared' },
  'scikit-learn': { threadSafe: 'conditional', notes: 'predict on a fitted estimator; n_jobs=1 inside threads' },
  jax: { threadSafe: 'conditional', notes: 'avoid shared mutable state' },
  'opencv-python': { threadSafe: 'conditional', notes: 'separate Mat objects per thread' },
  pillow: { threadSafe: 'conditional', notes: 'separate Image objects per thread' },
  aiohttp: { threadSafe: 'conditional', notes: 'one ClientSession per event loop' },
  sqlalchemy: { threadSafe: 'conditional', notes: 'one Session per thread; engines may be shared' },
  xgboost: { threadSafe: 'conditional', notes: 'set nthread; do not train one booster from several threads' },
  lightgbm: { threadSafe: 'conditional', notes: 'set num_threads; no shared training' },
  faiss: { threadSafe: 'conditional', notes: 'concurrent searches are fine, index changes are not' },
  cupy: { threadSafe: 'conditional', notes: 'one CUDA stream/context per thread' },
  pandas: { threadSafe: 'unsafe', notes: 'lock around DataFrame operations, or use the process profile' },
  matplotlib: { threadSafe: 'unsafe', notes: 'pyplot keeps global state; use the object API per call or processes' },
  sqlite3: { threadSafe: 'unsafe', notes: 'one connection per thread (check_same_thread)' },
  spacy: { threadSafe: 'unsafe', notes: 'pipelines keep mutable state' },
  fasttext: { threadSafe: 'unsafe', notes: 'model objects are not thread-safe' },
});

/** Import names that differ from the table's (distribution) names. */
const LIBRARY_ALIASES: Readonly<Record<string, string>> = { sklearn: 'scikit-learn', cv2: 'opencv-python', pil: 'pillow' };

/** The table entry of a library by import or distribution name (case and `_`/`-` insensitive). */
export function libraryThreadSafety(name: string): { name: string; threadSafe: ThreadSafety; notes: string } | undefined {
  const key = name.trim().toLowerCase().replace(/_/g, '-');
  const canonical = LIBRARY_ALIASES[key] ?? key;
  const entry = LIBRARY_THREAD_SAFETY[canonical];
  return entry ? { name: canonical, ...entry } : undefined;
}

/** The worker's wire shape (`ReadyInfo.runtime`) as `PythonRuntimeInfo`. */
export function runtimeInfoFromWire(wire: PythonRuntimeWire): PythonRuntimeInfo {
  return { version: wire.version, gilEnabled: wire.gil_enabled, freeThreading: wire.free_threading };
}

/** `[major, minor]` of a version string such as `'3.13.1'` or `'3.14.0rc1'`; undefined if unreadable. */
export function parsePythonVersion(version: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)/.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** The pool settings the advice looks at. */
export interface ProfilePoolSettings {
  workerProfile: 'process' | 'thread';
  /** @default 10 (the config default) */
  threadsPerWorker?: number;
}

export interface ProfileAdviceOptions {
  /** What the tools mostly do. @default 'python_cpu' */
  workload?: Workload;
  /** Libraries the adapter uses (import or distribution names). @default [] */
  libraries?: readonly string[];
  /** Cores to size threads against. @default os.availableParallelism() */
  cpuCount?: number;
}

/** A recommendation with its reasons; `warnings` are about the configured pool. */
export interface ProfileAdvice {
  recommended: 'process' | 'thread';
  /** Whether the pool's `workerProfile` is the recommended one (undefined without a pool). */
  matches: boolean | undefined;
  reasons: string[];
  warnings: string[];
}

/**
 * Recommends a profile. Thread profile when threads can run in parallel: a free-threaded Python
 * with the GIL off, or a GIL Python whose tools release it (`workload` `'gil_releasing'`/`'io'`);
 * process otherwise, or when the runtime is unknown, or when a library in use is not thread-safe.
 * @example adviseProfile(runtimeInfoFromWire(worker.readyInfo.runtime), { workerProfile: 'thread', threadsPerWorker: 8 })
 */
export function adviseProfile(runtime: PythonRuntimeInfo | undefined, pool?: ProfilePoolSettings, options: ProfileAdviceOptions = {}): ProfileAdvice {
  const workload = options.workload ?? 'python_cpu';
  const reasons: string[] = [];
  const warnings: string[] = [];
  let recommended: 'process' | 'thread';
  const parallelThreads = runtime !== undefined && (!runtime.gilEnabled || workload !== 'python_cpu');

  if (runtime === undefined) {
    recommended = 'process';
    reasons.push('The Python runtime is unknown: the process profile works with every interpreter and adapter.');
  } else if (!runtime.gilEnabled) {
    recommended = 'thread';
    reasons.push(`Python ${runtime.version} runs without the GIL: threads of one worker run Python code in parallel.`);
  } else {
    reasons.push(gilReason(runtime));
    if (workload === 'python_cpu') {
      recommended = 'process';
      reasons.push('Pure-Python CPU work runs one thread at a time under the GIL: separate processes use the cores.');
    } else {
      recommended = 'thread';
      reasons.push(
        workload === 'io'
          ? 'I/O-bound tools wait with the GIL released: threads of one worker overlap their waits.'
          : 'Tools that release the GIL (numpy/BLAS, C extensions) run in parallel on threads of one worker.',
      );
    }
  }

  const unsafe = (options.libraries ?? []).map(libraryThreadSafety).filter((l) => l !== undefined);
  for (const lib of unsafe) {
    if (lib.threadSafe === 'unsafe') {
      if (recommended === 'thread') reasons.push(`${lib.name} is not thread-safe (${lib.notes}): the process profile avoids locking around it.`);
      recommended = 'process';
    } else if (lib.threadSafe === 'conditional' && pool?.workerProfile === 'thread') {
      warnings.push(`${lib.name} is thread-safe only with care: ${lib.notes}.`);
    }
  }

  if (pool?.workerProfile === 'thread') {
    const threads = pool.threadsPerWorker ?? 10;
    const cpus = options.cpuCount ?? availableParallelism();
    if (runtime !== undefined && !parallelThreads) {
      warnings.push('The thread profile on a GIL Python: pure-Python tools run one at a time per worker; use the process profile or a free-threaded Python (3.13t+).');
    }
    if (threads > cpus * 2) {
      warnings.push(`threadsPerWorker ${threads} is more than twice the ${cpus} cores: CPU-bound threads only contend (rule of thumb: threads = cores × 2).`);
    }
    for (const lib of unsafe) if (lib.threadSafe === 'unsafe') warnings.push(`${lib.name} is used from concurrent threads: ${lib.notes}.`);
  }
  return { recommended, matches: pool ? pool.workerProfile === recommended : undefined, reasons, warnings };
}

function gilReason(runtime: PythonRuntimeInfo): string {
  if (runtime.freeThreading) {
    return `Python ${runtime.version} is a free-threaded build but the GIL is on (PYTHON_GIL=1, or an extension without free-threading support).`;
  }
  const version = parsePythonVersion(runtime.version);
  const old = version !== undefined && (version[0] < 3 || (version[0] === 3 && version[1] < 13));
  return old
    ? `Python ${runtime.version} has a GIL (free-threading needs 3.13 or later, as a 't' build).`
    : `Python ${runtime.version} is not a free-threaded build: the GIL is on.`;
}
