/**
 * The original's `PythonVersion`: what an interpreter is (version, venv, GIL, free-threading),
 * learnt by running it once with a tiny script, and the profile that suits it.
 */
import { PackageError } from '../errors.js';
import { DEFAULT_PROBE_TIMEOUT_MS, outputTail, runCommand } from './exec.js';

/** Oldest Python the bridge supports (the original's floor too). */
export const MIN_PYTHON_VERSION: readonly [number, number] = [3, 9];

/** First Python that can be built without the GIL (PEP 703). */
export const FREE_THREADING_VERSION: readonly [number, number] = [3, 13];

/** `[major, minor, micro]`. */
export type PythonVersionTuple = readonly [number, number, number];

/** What one interpreter reported about itself. */
export interface PythonInfo {
  /** The command or path it was run as. */
  executable: string;
  /** `sys.executable`: the resolved path. */
  realExecutable: string;
  version: PythonVersionTuple;
  /** `platform.python_version()`, e.g. `3.11.7` or `3.13.0rc1`. */
  versionString: string;
  /** `cpython`, `pypy`, ... */
  implementation: string;
  /** Runs inside a virtual environment (`sys.prefix != sys.base_prefix`). */
  inVenv: boolean;
  prefix: string;
  basePrefix: string;
  /** Built with `--disable-gil` (a `python3.13t`-style build). */
  freeThreadingBuild: boolean;
  /** The GIL is on in this process (always true before 3.13; `PYTHON_GIL=0` turns it off on a free-threaded build). */
  gilEnabled: boolean;
  /** `sys.platform` and `platform.machine()`. */
  platform: string;
  machine: string;
  /** Where `pip install` puts pure-Python packages for this interpreter. */
  purelib: string;
}

// Runs on every Python >= 3.6 so that a too-old one still reports its version.
const PROBE_SCRIPT = `
import json, platform, sys, sysconfig
gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
print(json.dumps({
    "realExecutable": sys.executable,
    "version": list(sys.version_info[:3]),
    "versionString": platform.python_version(),
    "implementation": sys.implementation.name,
    "prefix": sys.prefix,
    "basePrefix": getattr(sys, "base_prefix", sys.prefix),
    "freeThreadingBuild": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "gilEnabled": bool(gil),
    "platform": sys.platform,
    "machine": platform.machine(),
    "purelib": sysconfig.get_paths()["purelib"],
}))
`;

export interface ProbeOptions {
  /** @default DEFAULT_PROBE_TIMEOUT_MS */
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * Runs `executable` once and reports what it is.
 * @throws {PackageError} `python_not_found` when it does not run or is not a Python.
 * @example
 * const info = await probePython('.venv/bin/python');
 * info.versionString; // '3.11.7'
 */
export async function probePython(executable: string, options: ProbeOptions = {}): Promise<PythonInfo> {
  const result = await runCommand(executable, ['-c', PROBE_SCRIPT], {
    timeoutMs: options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    env: options.env,
    cwd: options.cwd,
  });
  const fix = 'Install Python >= 3.9, or point SNAKEPIT_PYTHON (or --python) at one';
  if (result.notFound) {
    throw new PackageError(`Python interpreter not found: ${executable}`, 'python_not_found', fix, { executable });
  }
  if (result.exitCode !== 0) {
    const why = result.timedOut ? 'timed out' : `failed:\n${outputTail(result)}`;
    throw new PackageError(`Running ${executable} ${why}`, 'python_not_found', fix, { executable, timedOut: result.timedOut });
  }
  try {
    const raw = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as Omit<PythonInfo, 'executable' | 'inVenv'>;
    return { executable, ...raw, version: raw.version as unknown as PythonVersionTuple, inVenv: raw.prefix !== raw.basePrefix };
  } catch (error) {
    throw new PackageError(`${executable} is not a Python interpreter (unexpected output)`, 'python_not_found', fix, { executable }, error);
  }
}

/** `a` compared with `b`, element by element: negative, 0 or positive. */
export function compareVersionTuples(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The version is at least {@link MIN_PYTHON_VERSION}. */
export function meetsMinimumVersion(version: readonly number[]): boolean {
  return compareVersionTuples(version, MIN_PYTHON_VERSION) >= 0;
}

/** The original's `supports_free_threading?/1`: 3.13 or newer (the GIL can be off, PEP 703). */
export function supportsFreeThreading(version: readonly number[]): boolean {
  return compareVersionTuples(version, FREE_THREADING_VERSION) >= 0;
}

/**
 * The original's `recommend_profile/1`: `'thread'` where free threading is possible, else
 * `'process'`. With a probe at hand, prefer {@link PythonInfo.gilEnabled}: a 3.13 built with the GIL
 * still serialises threads.
 */
export function recommendProfileForVersion(version: readonly number[]): 'process' | 'thread' {
  return supportsFreeThreading(version) ? 'thread' : 'process';
}
