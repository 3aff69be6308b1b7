/** Runs a detection tool (nvidia-smi, rocm-smi, nvcc): never throws, says what happened. */
import { execa } from 'execa';

export type ProbeResult =
  /** The tool is not installed (not on PATH). */
  | { status: 'missing' }
  | { status: 'ok'; stdout: string }
  /** It ran and failed (non-zero exit), timed out, or could not be started. */
  | { status: 'failed'; detail: string };

/** Runs `command args` with a timeout, argument array, no shell. */
export async function probe(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ProbeResult> {
  const r = await execa(command, args, { env, extendEnv: false, timeout: timeoutMs, reject: false, stdin: 'ignore' });
  if (r.code === 'ENOENT') return { status: 'missing' };
  if (r.timedOut) return { status: 'failed', detail: `${command} did not answer within ${timeoutMs} ms` };
  if (r.failed) {
    const said = firstLine(String(r.stdout).trim() || String(r.stderr).trim());
    return { status: 'failed', detail: `${command} failed (${r.exitCode === undefined ? r.code ?? 'not started' : `exit code ${r.exitCode}`})${said ? `: ${said}` : ''}` };
  }
  return { status: 'ok', stdout: String(r.stdout) };
}

/** The start of a tool's output, for a warning. */
export function firstLine(text: string, max = 200): string {
  const line = text.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
