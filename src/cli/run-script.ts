/** `snakepit run`: start pools from config, run a script with the default instance, always stop. */
import { statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';
import { ValidationError } from '../errors.js';
import type { LogCategoriesInput, LogLevelInput } from '../logger.js';
import { setDefaultInstance, Snakepit } from '../snakepit.js';
import { loadAsEsm } from '../esm-entry-hooks.js';

export interface RunScriptOptions {
  script: string;
  /** Arguments the script sees in `process.argv.slice(2)`. */
  scriptArgs: string[];
  configFile?: string;
  cwd?: string;
  /** Longest wait for the pools to start, in ms. @default no bound beyond each worker's `poolStartupTimeoutMs` */
  startTimeoutMs?: number;
  /** Reload the workers (and the types) when the pools' Python sources change (`--watch`). @default false */
  watch?: boolean;
  /** Log levels per category over the config's (`--log-categories`). */
  logCategories?: LogCategoriesInput;
}

const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'warning', 'error', 'none'];

/**
 * `--log-categories`: `python=debug,heartbeat=none` (levels per category) or `lifecycle,grpc` (the
 * original's list: only these log below warn).
 * @throws {ValidationError} `invalid_argument` naming the entry that is neither form.
 */
export function parseLogCategories(spec: string): LogCategoriesInput {
  const entries = spec.split(',').map((e) => e.trim()).filter(Boolean);
  if (entries.every((e) => !e.includes('='))) return entries;
  const levels: Record<string, LogLevelInput> = {};
  for (const entry of entries) {
    const [category, level] = entry.split('=', 2) as [string, string | undefined];
    if (!category || level === undefined || !LEVELS.includes(level)) {
      throw new ValidationError(
        `--log-categories: expected category=level (level one of ${LEVELS.join(', ')}) or a list of categories, got "${entry}"`,
        'invalid_argument',
        { flag: '--log-categories', entry },
      );
    }
    levels[category] = level as LogLevelInput;
  }
  return levels;
}

/** Exit code for a run ended by SIGINT/SIGTERM (128 + signal number, as shells do). */
const SIGNAL_EXIT_CODES: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs the script — its top-level code, then its default export if that is a function — in script
 * mode (`Snakepit.runAsScript`) and resolves with the exit code to use: the script's
 * `process.exitCode` (0 by default), 1 if it threw, 130/143 on Ctrl-C / SIGTERM. Workers are
 * stopped in every case.
 */
export async function runScript(options: RunScriptOptions): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const scriptPath = path.resolve(cwd, options.script);
  // Before any worker starts: Node's own answer is a loader stack naming run-script.js.
  if (statSync(scriptPath, { throwIfNoEntry: false })?.isFile() !== true) {
    throw new ValidationError(`Script not found: ${scriptPath}`, 'script_not_found', { script: options.script, path: scriptPath });
  }
  // A script that waits forever never returns to script mode: a signal stops the workers
  // (also while the pools start) and exits here. A second signal finds no listener: Node's
  // default kills the process, and the exit hook SIGKILLs the worker groups.
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    process.stderr.write(`\nsnakepit: ${signal} received, stopping workers…\n`);
    void Snakepit.cleanup().finally(() => process.exit(SIGNAL_EXIT_CODES[signal]));
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.once('SIGINT', sigint);
  process.once('SIGTERM', sigterm);
  try {
    return await Snakepit.runAsScript((sp) => runModule(sp, scriptPath, options.scriptArgs), {
      cwd,
      configFile: options.configFile,
      timeoutMs: options.startTimeoutMs ?? Infinity,
      watch: options.watch ?? false,
      ...(options.logCategories === undefined ? {} : { logCategories: options.logCategories }),
    });
  } finally {
    setDefaultInstance(undefined);
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
}

/** Imports the script with the instance as the default one; resolves with its exit code. */
async function runModule(sp: Snakepit, scriptPath: string, scriptArgs: string[]): Promise<number> {
  setDefaultInstance(sp);
  const entryUrl = pathToFileURL(scriptPath).href;
  const unregister = register();
  loadAsEsm(entryUrl); // after tsx's hooks: it sees their answer
  const savedArgv = process.argv;
  process.argv = [process.argv[0] ?? 'node', scriptPath, ...scriptArgs];
  try {
    const mod = (await import(entryUrl)) as { default?: unknown };
    if (typeof mod.default === 'function') await (mod.default as (sp: Snakepit) => unknown)(sp);
    return typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    const hint = commonJsHint(error, scriptPath);
    if (hint) process.stderr.write(`${hint}\n`);
    return 1;
  } finally {
    process.argv = savedArgv;
    await unregister();
  }
}

/** What to change when a CommonJS script met the ES module scope its entry always gets. */
function commonJsHint(error: unknown, scriptPath: string): string | undefined {
  const name = error instanceof ReferenceError ? /^(require|module|exports|__dirname|__filename) is not defined in ES module scope/.exec(error.message)?.[1] : undefined;
  if (name === undefined) return undefined;
  // Renaming it .cts is no general way out: on Node 20 a TypeScript CommonJS file cannot require() 'snakepit' (ESM).
  return (
    `snakepit run loads ${path.basename(scriptPath)} as an ES module, where \`${name}\` does not exist: ` +
    'write it with import/export (import.meta.dirname and import.meta.filename replace __dirname and __filename)'
  );
}
