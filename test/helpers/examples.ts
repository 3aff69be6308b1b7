// Runs examples/ the way the guides tell users to, from the repository root, and hands back the finished
// process (never throws on a non-zero exit: tests assert exitCode, stdout and stderr themselves).
import { execa } from 'execa';
import path from 'node:path';

const ROOT = path.resolve('.');
const BIN = path.join(ROOT, 'bin/run.js');
const PYTHON = path.join(ROOT, '.venv/bin/python');
const DEFAULT_TIMEOUT_MS = 60_000;

export interface RunExampleOptions {
  /** Passed as `--config <file>`. */
  config?: string;
  /** Arguments after the script (and its config). @default [] */
  args?: string[];
  /** The whole environment of the run; the test process's own is not added. @default the test process's environment */
  env?: NodeJS.ProcessEnv;
  /** @default 60_000 */
  timeoutMs?: number;
}

/** `node bin/run.js run <script> [--config <config>] [...args]`: a TypeScript example under `snakepit run`. */
export function runExample(script: string, options: RunExampleOptions = {}) {
  const { config, args = [], env, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  const argv = [BIN, 'run', script, ...(config === undefined ? [] : ['--config', config]), ...args];
  return execa(process.execPath, argv, { cwd: ROOT, reject: false, timeout: timeoutMs, ...(env === undefined ? {} : { env, extendEnv: false }) });
}

/** `node --import tsx <file>`: a library example that starts Snakepit itself (no CLI). */
export function runTsFile(file: string) {
  return execa(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, reject: false, timeout: DEFAULT_TIMEOUT_MS });
}

/** The development venv's Python with the bridge (python/) importable: `python <...args>`. */
export function runPython(...args: string[]) {
  return execa(PYTHON, args, { cwd: ROOT, reject: false, timeout: DEFAULT_TIMEOUT_MS, env: { PYTHONPATH: path.join(ROOT, 'python') } });
}
