/** Where the Python interpreter and the bridge package are. */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PackageError } from '../errors.js';
import { resolveInterpreter } from './venv.js';

let cachedRoot: string | undefined;

/** The snakepit package root (the folder with our package.json), from src/ or dist/. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'snakepit') {
      cachedRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('Cannot find the snakepit package root');
    dir = parent;
  }
}

/** The folder holding the `snakepit_bridge` Python package. */
export function bridgePythonPath(): string {
  return path.join(packageRoot(), 'python');
}

/** Where the interpreter of `locatePython` came from. */
export type PythonSource = 'SNAKEPIT_PYTHON' | 'pythonExecutable' | 'project .venv' | 'package .venv' | 'PATH';

/**
 * The Python to run workers with: `SNAKEPIT_PYTHON` (wins, as in the original), then the pool's
 * `pythonExecutable`, then a `.venv` in the working directory, then the one `snakepit setup` made
 * in the package, then `python3` (`resolveInterpreter`'s rule, the only one).
 */
export function resolvePythonExecutable(configured?: string, cwd = process.cwd()): string {
  return resolveInterpreter({ configured, cwd }).python;
}

/** `resolvePythonExecutable` with where the answer came from (for error messages). */
export function locatePython(configured?: string, cwd = process.cwd()): { executable: string; source: PythonSource } {
  const { python, source } = resolveInterpreter({ configured, cwd });
  const named: Record<typeof source, PythonSource> = {
    option: 'pythonExecutable',
    env: 'SNAKEPIT_PYTHON',
    config: 'pythonExecutable',
    venv: python.startsWith(path.join(cwd, '.venv')) ? 'project .venv' : 'package .venv',
    system: 'PATH',
  };
  return { executable: python, source: named[source] };
}
/**
 * Checks, without running it, that the interpreter a pool will spawn exists and is executable:
 * a path (relative ones from `cwd`, as the spawn sees them), or a bare name found on `searchPath`.
 * @throws {PackageError} `python_not_found` naming the path tried, where it came from, and the fix.
 */
export function assertPythonExecutable(explicit: string | undefined, cwd: string, searchPath = process.env.PATH ?? ''): void {
  const { executable, source } = locatePython(explicit, cwd);
  const candidates = executable.includes('/')
    ? [path.resolve(cwd, executable)]
    : searchPath.split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, executable));
  if (candidates.some(isExecutableFile)) return;
  const tried = executable.includes('/') ? candidates[0]! : `${executable} (not on PATH)`;
  throw new PackageError(
    `Python interpreter not found: ${tried}, from ${source}`,
    'python_not_found',
    'Run `npx snakepit setup` to create .venv, or set SNAKEPIT_PYTHON (or pythonExecutable) to a Python >= 3.9',
    { executable, path: tried, source },
  );
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
