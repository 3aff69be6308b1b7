// Runs a snakepit command in-process with @oclif/test (dist/, built by the global setup) and reads its exit code.
import { runCommand } from '@oclif/test';
import path from 'node:path';
import { format } from 'node:util';

const ROOT = path.resolve('.');

export interface CliResult<T> {
  stdout: string;
  stderr: string;
  result: T | undefined;
  error: (Error & { code?: string; oclif?: { exit?: number } }) | undefined;
  /** What the process would exit with. */
  exitCode: number;
}

/**
 * One command run. oclif reports a failure either by throwing (text mode) or by setting
 * `process.exitCode` after printing the JSON error (`--json`): both become `exitCode`, and
 * `process.exitCode` is reset so the test runner's own exit code is untouched.
 */
export async function cli<T = unknown>(args: string[]): Promise<CliResult<T>> {
  const saved = process.exitCode;
  process.exitCode = undefined;
  // oclif prints through console.log/error, which vitest intercepts before @oclif/test's capture
  // of process.stdout/stderr sees it: route them to the (captured) streams for this run.
  const { log, error } = console;
  console.log = (...args: unknown[]) => void process.stdout.write(`${format(...args)}\n`);
  console.error = (...args: unknown[]) => void process.stderr.write(`${format(...args)}\n`);
  try {
    const r = await runCommand<T>(args, { root: ROOT });
    const fromError = r.error ? (r.error.oclif?.exit ?? 1) : undefined;
    const exitCode = fromError ?? (typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0));
    return { stdout: r.stdout, stderr: r.stderr, result: r.result, error: r.error, exitCode };
  } finally {
    Object.assign(console, { log, error });
    process.exitCode = saved;
  }
}

/** The JSON a `--json` run printed on stdout. */
export function json<T>(r: CliResult<unknown>): T {
  return JSON.parse(r.stdout) as T;
}
