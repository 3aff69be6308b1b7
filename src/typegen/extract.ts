/** Runs Python's type extraction for one pool: its interpreter, PYTHONPATH and env, so imports resolve as in its workers. */
import type { ResolvedPoolConfig } from '../config/index.js';
import { PackageError, PythonError } from '../errors.js';
import { outputTail, runCommand } from '../python/exec.js';
import { resolvePythonExecutable } from '../python/runtime.js';
import { buildWorkerEnv } from '../python/worker-env.js';
import { TYPE_SPEC_VERSION, type AdapterTypeSpec } from '../typed/type-spec.js';

/** Longest an adapter import may take while extracting its types, in ms (ML libraries import slowly). */
export const DEFAULT_EXTRACT_TIMEOUT_MS = 120_000;

export interface ExtractOptions {
  /** Folder the pool's relative `pythonPath` entries and `.venv` are found from. @default process.cwd() */
  cwd?: string;
  /** @default DEFAULT_EXTRACT_TIMEOUT_MS */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface ExtractFailure {
  adapter: string;
  error: { type: string; message: string; traceback: string };
}

/**
 * The tool type specs of a pool's adapter, from `python -m snakepit_bridge.type_specs`.
 * @throws {PythonError} `adapter_import` naming the pool and adapter, with Python's traceback.
 * @throws {PackageError} `python_not_found` when the pool's interpreter does not run.
 */
export async function extractPoolTypes(pool: ResolvedPoolConfig, options: ExtractOptions = {}): Promise<AdapterTypeSpec> {
  const cwd = options.cwd ?? process.cwd();
  const python = resolvePythonExecutable(pool.pythonExecutable, cwd);
  const env = buildWorkerEnv({ profile: pool.workerProfile, adapterEnv: pool.adapterEnv, pythonPath: pool.pythonPath, pythonLogLevel: 'error' });
  const r = await runCommand(python, ['-m', 'snakepit_bridge.type_specs', '--adapter', pool.adapter], {
    cwd,
    env,
    timeoutMs: options.timeoutMs ?? DEFAULT_EXTRACT_TIMEOUT_MS,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (r.notFound) {
    throw new PackageError(`Pool ${pool.name}: cannot run Python (${python})`, 'python_not_found', 'Run snakepit setup, or set pythonExecutable / SNAKEPIT_PYTHON', { pool: pool.name, python });
  }
  const parsed = parseJson(r.stdout);
  if (r.exitCode === 0 && isSpec(parsed)) return parsed;
  const failure = isFailure(parsed) ? parsed.error : undefined;
  const traceback = failure?.traceback ?? outputTail(r, 30);
  const why = failure ? `${failure.type}: ${failure.message}` : r.timedOut ? `no answer within ${options.timeoutMs ?? DEFAULT_EXTRACT_TIMEOUT_MS} ms` : `exit code ${r.exitCode ?? 'none'}`;
  throw new PythonError(`Pool ${pool.name}: cannot load adapter ${pool.adapter} (${why})`, {
    exceptionType: failure?.type ?? 'ExtractionError',
    pythonTraceback: traceback,
    code: 'adapter_import',
    details: { pool: pool.name, adapter: pool.adapter, traceback, fix: `Make ${pool.adapter} importable: check pools[${JSON.stringify(pool.name)}].pythonPath and the traceback` },
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isSpec(value: unknown): value is AdapterTypeSpec {
  const v = value as Partial<AdapterTypeSpec> | undefined;
  return typeof v === 'object' && v !== null && v.version === TYPE_SPEC_VERSION && Array.isArray(v.tools) && typeof v.definitions === 'object';
}

function isFailure(value: unknown): value is ExtractFailure {
  const v = value as Partial<ExtractFailure> | undefined;
  return typeof v === 'object' && v !== null && typeof v.error === 'object' && v.error !== null;
}
