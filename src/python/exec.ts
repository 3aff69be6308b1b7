/** Runs the short-lived helper commands of environment management (python, pip, uv) with a deadline. */
import { execa } from 'execa';

/** Deadline of a probe (`python -c ...`, `uv --version`), in ms. */
export const DEFAULT_PROBE_TIMEOUT_MS = 20_000;

export interface CommandOptions {
  /** Working directory. @default process.cwd() */
  cwd?: string;
  /** Extra environment variables, on top of the host's. */
  env?: Record<string, string | undefined>;
  /** Kill the command (SIGTERM, then SIGKILL) after this many ms. @default DEFAULT_PROBE_TIMEOUT_MS */
  timeoutMs?: number;
  /** Called with each line of output (stdout and stderr) as it arrives: progress for long installs. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export interface CommandResult {
  /** The exit code; `null` when the command did not start, timed out or died of a signal. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The executable was not found (ENOENT) or could not be started. */
  notFound: boolean;
  /** The command line, for messages. */
  command: string;
}

/** Runs `file args` (an argument array, never a shell string) and resolves however it ends. */
export async function runCommand(file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const child = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    timeout: options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    forceKillAfterDelay: 2_000,
    cancelSignal: options.signal,
    reject: false,
    stdin: 'ignore',
  });
  if (options.onLine) {
    const onLine = options.onLine;
    let pending = '';
    const feed = (chunk: Buffer | string) => {
      pending += chunk.toString();
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line);
    };
    child.stdout?.on('data', feed);
    child.stderr?.on('data', feed);
  }
  const result = await child;
  return {
    exitCode: typeof result.exitCode === 'number' && !result.timedOut ? result.exitCode : null,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut: result.timedOut,
    notFound: result.exitCode === undefined && !result.timedOut && (result as { code?: string }).code !== undefined,
    command: [file, ...args].join(' '),
  };
}

/** The last `maxLines` non-empty lines of a command's output: what a failure message shows. */
export function outputTail(result: Pick<CommandResult, 'stdout' | 'stderr'>, maxLines = 12): string {
  const lines = `${result.stdout}\n${result.stderr}`.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.slice(-maxLines).join('\n');
}
