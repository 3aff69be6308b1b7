/** Where the Python interpreter and the bridge package are. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

/**
 * The Python to run workers with: `SNAKEPIT_PYTHON` (wins, as in the original), then the pool's
 * `pythonExecutable`, then a `.venv` in the working directory, then the one `snakepit setup` made
 * in the package, then `python3` (`resolveInterpreter`'s rule, the only one).
 */
export function resolvePythonExecutable(configured?: string, cwd = process.cwd()): string {
  return resolveInterpreter({ configured, cwd }).python;
}
