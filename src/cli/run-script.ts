/** `snakepit run`: start pools from config, run a script with the default instance, always stop. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';
import { setDefaultInstance, Snakepit } from '../snakepit.js';

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
  const unregister = register();
  const savedArgv = process.argv;
  process.argv = [process.argv[0] ?? 'node', scriptPath, ...scriptArgs];
  try {
    const mod = (await import(pathToFileURL(scriptPath).href)) as { default?: unknown };
    if (typeof mod.default === 'function') await (mod.default as (sp: Snakepit) => unknown)(sp);
    return typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  } finally {
    process.argv = savedArgv;
    await unregister();
  }
}
