/**
 * The original's `PythonRuntime`: which interpreter to use and, for the `venv` and `managed`
 * strategies, the virtual environment that holds it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PackageError } from '../errors.js';
import { outputTail, runCommand } from './exec.js';
import { findUv } from './packages.js';
import { packageRoot } from './runtime.js';

/**
 * Where the Python environment comes from.
 * - `system`: use the interpreter as it is; packages go into its own site-packages.
 * - `venv`: a virtual environment made with `python -m venv` from that interpreter.
 * - `managed`: a virtual environment that uv creates and owns (`uv venv`; uv may fetch the Python).
 */
export type PythonStrategy = 'system' | 'venv' | 'managed';

/** Longest `python -m venv` / `uv venv` may take, in ms. */
export const DEFAULT_VENV_TIMEOUT_MS = 120_000;

/** The interpreter inside a virtual environment folder. */
export function venvPython(dir: string): string {
  return process.platform === 'win32' ? path.join(dir, 'Scripts', 'python.exe') : path.join(dir, 'bin', 'python');
}

/** `dir` holds a virtual environment (a `pyvenv.cfg` and an interpreter). */
export function isVenv(dir: string): boolean {
  return existsSync(path.join(dir, 'pyvenv.cfg')) && existsSync(venvPython(dir));
}

/** Where an interpreter choice came from, in resolution order. */
export type InterpreterSource = 'option' | 'env' | 'config' | 'venv' | 'system';

export interface ResolveInterpreterOptions {
  /** An explicit interpreter (a command's `--python` flag): wins. */
  explicit?: string | undefined;
  /** The config's `pythonExecutable`: after `SNAKEPIT_PYTHON`, which overrides it as in the original. */
  configured?: string | undefined;
  /** The project's virtual environment. @default `<cwd>/.venv` */
  venvDir?: string;
  /** @default process.cwd() */
  cwd?: string;
}

/**
 * The interpreter, in the original's order (the one rule, for workers and commands alike): an
 * explicit flag, `SNAKEPIT_PYTHON` (which overrides the config, as the original's environment
 * override does), the config's `pythonExecutable`, the project's venv (then the one a development
 * checkout of Snakepit has), the system `python3`.
 * @example
 * resolveInterpreter({ cwd: '/app' }); // { python: '/app/.venv/bin/python', source: 'venv' }
 */
export function resolveInterpreter(options: ResolveInterpreterOptions = {}): { python: string; source: InterpreterSource } {
  if (options.explicit) return { python: options.explicit, source: 'option' };
  const fromEnv = process.env.SNAKEPIT_PYTHON;
  if (fromEnv) return { python: fromEnv, source: 'env' };
  if (options.configured) return { python: options.configured, source: 'config' };
  const cwd = options.cwd ?? process.cwd();
  for (const dir of [options.venvDir ?? path.join(cwd, '.venv'), path.join(packageRoot(), '.venv')]) {
    if (isVenv(dir)) return { python: venvPython(dir), source: 'venv' };
  }
  return { python: 'python3', source: 'system' };
}

/**
 * The interpreter a new venv is made from: the explicit one, `SNAKEPIT_PYTHON`, else `python3`
 * (never the venv being made).
 */
export function resolveBasePython(explicit?: string): { python: string; source: InterpreterSource } {
  if (explicit) return { python: explicit, source: 'option' };
  if (process.env.SNAKEPIT_PYTHON) return { python: process.env.SNAKEPIT_PYTHON, source: 'env' };
  return { python: 'python3', source: 'system' };
}

export interface CreateVenvOptions {
  strategy: 'venv' | 'managed';
  /** The interpreter to base it on; for `managed`, also a version request uv understands (`3.12`). */
  basePython: string;
  /** uv executable for `managed` (else found with {@link findUv}). */
  uv?: string;
  /** Let the venv see the base interpreter's packages (`--system-site-packages`). @default false */
  systemSitePackages?: boolean;
  /** @default DEFAULT_VENV_TIMEOUT_MS */
  timeoutMs?: number;
  onLine?: (line: string) => void;
}

/**
 * Creates a virtual environment at `dir` (which must not hold one yet) and returns its interpreter.
 * @throws {PackageError} `not_installed` (managed without uv), `install_failed` (the tool failed).
 */
export async function createVenv(dir: string, options: CreateVenvOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_VENV_TIMEOUT_MS;
  const site = options.systemSitePackages ? ['--system-site-packages'] : [];
  let file: string;
  let args: string[];
  if (options.strategy === 'managed') {
    const uv = await findUv({ explicit: options.uv });
    if (!uv) {
      throw new PackageError('The managed strategy needs uv, which was not found', 'not_installed', 'Install uv (pip install uv) or set SNAKEPIT_UV; or use --strategy venv', {
        package: 'uv',
      });
    }
    [file, args] = [uv, ['venv', '--quiet', '--python', options.basePython, ...site, dir]];
  } else {
    [file, args] = [options.basePython, ['-m', 'venv', ...site, dir]];
  }
  const result = await runCommand(file, args, { timeoutMs, onLine: options.onLine });
  if (result.exitCode !== 0 || !isVenv(dir)) {
    const why = result.timedOut ? 'timed out' : result.notFound ? `${file} not found` : `failed:\n${outputTail(result)}`;
    const fix =
      options.strategy === 'venv'
        ? 'Install the venv module (Debian/Ubuntu: apt install python3-venv), or use --strategy managed with uv'
        : 'Check that uv can find or fetch that Python (uv python list)';
    throw new PackageError(`Creating the virtual environment at ${dir} ${why}`, 'install_failed', fix, { dir, command: result.command });
  }
  return venvPython(dir);
}
