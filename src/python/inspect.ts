/**
 * `snakepit profile-inspector`: the interpreter's threading facts, the profile advice for each
 * configured pool, the thread-safety table for the libraries installed, the thread-limit
 * variables each pool's workers get, and the hardware.
 */
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type ResolvedPoolConfig } from '../config/index.js';
import { detectHardware, type HardwareInfo } from '../hardware/index.js';
import { PythonPackages } from './packages.js';
import { adviseProfile, LIBRARY_THREAD_SAFETY, type ThreadSafety } from './profile-advice.js';
import { resolvePythonExecutable } from './runtime.js';
import { probePython, supportsFreeThreading, type PythonInfo } from './version.js';
import { buildWorkerEnv } from './worker-env.js';

/** Variables that cap BLAS/OpenMP thread pools, shown per pool. */
export const THREAD_LIMIT_VARS = ['OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'OMP_NUM_THREADS', 'NUMEXPR_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS'] as const;

// Table names whose installed distribution goes by other names too.
const DISTRIBUTION_ALIASES: Readonly<Record<string, readonly string[]>> = {
  faiss: ['faiss-cpu', 'faiss-gpu'],
  cupy: ['cupy-cuda12x', 'cupy-cuda11x'],
  'opencv-python': ['opencv-python-headless', 'opencv-contrib-python'],
  tensorflow: ['tensorflow-cpu'],
};
/** In the standard library: "installed" with every interpreter. */
const STDLIB_LIBRARIES = new Set(['sqlite3']);

export interface PoolProfileReport {
  name: string;
  python: string;
  workerProfile: 'process' | 'thread';
  poolSize: number;
  threadsPerWorker: number;
  /** Concurrent calls the pool takes: poolSize, times threadsPerWorker in the thread profile. */
  capacity: number;
  recommended: 'process' | 'thread';
  matches: boolean | undefined;
  reasons: string[];
  warnings: string[];
  /** The thread-limit variables its workers start with (`null`: unset). */
  threadLimits: Record<string, string | null>;
}

export interface LibraryReport {
  name: string;
  /** Installed version, or `stdlib`. */
  version: string;
  threadSafe: ThreadSafety;
  notes: string;
}

/** The hardware detector's report (`Hardware.detect`), plus what the scheduler of this machine offers now. */
export interface HardwareSummary extends HardwareInfo {
  /** `os.availableParallelism()`: the CPUs this process may use. */
  availableParallelism: number;
  memoryFreeMb: number;
}

export interface ProfileInspectorReport {
  configSource: string | null;
  python: {
    executable: string;
    version: string;
    implementation: string;
    gilEnabled: boolean;
    freeThreadingBuild: boolean;
    /** The version can run without the GIL (3.13+), whatever this build is. */
    supportsFreeThreading: boolean;
    inVenv: boolean;
  };
  pools: PoolProfileReport[];
  /** The table's libraries installed for `python`. */
  libraries: LibraryReport[];
  /** The thread-limit variables in the host's environment (`null`: unset). */
  hostThreadLimits: Record<string, string | null>;
  hardware: HardwareSummary;
}

export interface InspectOptions {
  cwd?: string;
  configFile?: string;
  /** Inspect this interpreter instead of the pools' own. */
  python?: string;
}

/**
 * Builds the report.
 * @throws {ConfigError} for an invalid config; {@link PackageError} `python_not_found` when an interpreter does not run.
 */
export async function inspectProfiles(options: InspectOptions = {}): Promise<ProfileInspectorReport> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const { config, source } = await loadConfig({ cwd, file: options.configFile });
  const probes = new Map<string, Promise<PythonInfo>>();
  const probe = (python: string) => {
    if (!probes.has(python)) probes.set(python, probePython(python, { cwd }));
    return probes.get(python)!;
  };
  const pythonOf = (pool: ResolvedPoolConfig) => options.python ?? resolvePythonExecutable(pool.pythonExecutable, cwd);
  const pools = await Promise.all(config.pools.map(async (pool) => poolReport(pool, pythonOf(pool), await probe(pythonOf(pool)))));
  const main = await probe(options.python ?? pythonOf(config.pools[0]!));
  const [libraries, hardware] = await Promise.all([installedLibraries(main.executable, cwd), hardwareSummary()]);
  return {
    configSource: source,
    python: {
      executable: main.realExecutable,
      version: main.versionString,
      implementation: main.implementation,
      gilEnabled: main.gilEnabled,
      freeThreadingBuild: main.freeThreadingBuild,
      supportsFreeThreading: supportsFreeThreading(main.version),
      inVenv: main.inVenv,
    },
    pools,
    libraries,
    hostThreadLimits: Object.fromEntries(THREAD_LIMIT_VARS.map((v) => [v, process.env[v] ?? null])),
    hardware,
  };
}

function poolReport(pool: ResolvedPoolConfig, python: string, info: PythonInfo): PoolProfileReport {
  const runtime = { version: info.versionString, gilEnabled: info.gilEnabled, freeThreading: info.freeThreadingBuild };
  const advice = adviseProfile(runtime, { workerProfile: pool.workerProfile, threadsPerWorker: pool.threadsPerWorker });
  const env = buildWorkerEnv({
    profile: pool.workerProfile,
    adapterEnv: pool.adapterEnv,
    pythonPath: pool.pythonPath,
    pythonLogLevel: pool.logLevel,
    threadsPerWorker: pool.threadsPerWorker,
    threadLimits: pool.threadLimits,
  });
  return {
    name: pool.name,
    python,
    workerProfile: pool.workerProfile,
    poolSize: pool.poolSize,
    threadsPerWorker: pool.threadsPerWorker,
    capacity: pool.workerProfile === 'thread' ? pool.poolSize * pool.threadsPerWorker : pool.poolSize,
    recommended: advice.recommended,
    matches: advice.matches,
    reasons: advice.reasons,
    warnings: advice.warnings,
    threadLimits: Object.fromEntries(THREAD_LIMIT_VARS.map((v) => [v, env[v] ?? null])),
  };
}

async function installedLibraries(python: string, cwd: string): Promise<LibraryReport[]> {
  const names = Object.keys(LIBRARY_THREAD_SAFETY).filter((n) => !STDLIB_LIBRARIES.has(n));
  const queried = [...names, ...names.flatMap((n) => DISTRIBUTION_ALIASES[n] ?? [])];
  const { versions } = await new PythonPackages({ python, cwd }).checkInstalled(queried);
  const out: LibraryReport[] = [];
  for (const [name, entry] of Object.entries(LIBRARY_THREAD_SAFETY)) {
    const version = STDLIB_LIBRARIES.has(name) ? 'stdlib' : [name, ...(DISTRIBUTION_ALIASES[name] ?? [])].map((d) => versions[d]).find((v) => v);
    if (version) out.push({ name, version, threadSafe: entry.threadSafe, notes: entry.notes });
  }
  return out;
}

/** The machine: CPU, memory and accelerators from the hardware detector (nvidia-smi, rocm-smi, MPS). */
async function hardwareSummary(): Promise<HardwareSummary> {
  // Not the cached `Hardware.detect()`: an inspection should show the machine as it is now.
  const info = await detectHardware();
  return { ...info, availableParallelism: os.availableParallelism(), memoryFreeMb: Math.round(os.freemem() / 2 ** 20) };
}
