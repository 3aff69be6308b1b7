/**
 * Run ids, as the original's `Snakepit.RunID`: 7 base36 characters, a 5-character timestamp and
 * 2 random characters (e.g. `k3x9a2p`). Every worker carries its host's run id on its command
 * line (`--snakepit-run-id <id>`), which is how a later start tells a dead run's survivors apart
 * from live workers and from unrelated processes.
 */
import { randomInt } from 'node:crypto';

const TIMESTAMP_SPACE = 36 ** 5;
const RANDOM_SPACE = 36 ** 2;
const RUN_ID = /^[0-9a-z]{7}$/;

let lastTimestamp = -1;

/**
 * A new run id. The timestamp part counts milliseconds (wrapping every ~16.8 h); within one process
 * it never repeats (it is bumped when two ids fall in the same millisecond), and the random part
 * separates hosts started in the same millisecond.
 */
export function generateRunId(now: number = Date.now()): string {
  let timestamp = now % TIMESTAMP_SPACE;
  if (timestamp <= lastTimestamp && lastTimestamp - timestamp < TIMESTAMP_SPACE / 2) timestamp = (lastTimestamp + 1) % TIMESTAMP_SPACE;
  lastTimestamp = timestamp;
  return timestamp.toString(36).padStart(5, '0') + randomInt(RANDOM_SPACE).toString(36).padStart(2, '0');
}

/** Whether `value` has the run id format (7 characters of `0-9a-z`). */
export function isRunId(value: string): boolean {
  return RUN_ID.test(value);
}

/**
 * The run id on a command line: the value of `--snakepit-run-id` (preferred) or `--run-id`, as
 * separate arguments or `--flag=value`. `command` is an argv array (e.g. /proc/<pid>/cmdline split
 * at NULs) or one string split at whitespace. Returns undefined when there is none.
 * @example extractRunId('python3 grpc_server.py --snakepit-run-id k3x9a2p --port 50051') // 'k3x9a2p'
 */
export function extractRunId(command: string | readonly string[]): string | undefined {
  const argv = typeof command === 'string' ? command.split(/\s+/).filter(Boolean) : command;
  return flagValue(argv, '--snakepit-run-id') ?? flagValue(argv, '--run-id');
}

function flagValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === flag) {
      const value = argv[i + 1];
      if (value !== undefined && value !== '' && !value.startsWith('--')) return value;
    } else if (arg.startsWith(`${flag}=`) && arg.length > flag.length + 1) {
      return arg.slice(flag.length + 1);
    }
  }
  return undefined;
}
