// Shared set-up for integration tests: real Python workers with the fixture adapters importable.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Snakepit, type SnakepitConfigInput, type StartOptions } from '../../src/index.js';
import type { LogRecord } from '../../src/logger.js';

export const FIXTURES = path.resolve('test/fixtures/python');

/** The transport this vitest project tests (see vitest.config.ts). */
export const TRANSPORT = (process.env.SNAKEPIT_TEST_TRANSPORT ?? 'pipe') as 'pipe' | 'grpc';

/** A started instance plus the log records it produced. */
export interface TestInstance {
  sp: Snakepit;
  logs: LogRecord[];
}

/**
 * Starts an instance with fixture adapters on PYTHONPATH and logs captured instead of printed.
 * `pool` is merged into the one pool, `top` into the config, `options` go to Snakepit.start (logCategories…).
 */
export async function startPool(
  pool: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
  options: Omit<StartOptions, 'logSink' | 'logger'> = {},
): Promise<TestInstance> {
  const logs: LogRecord[] = [];
  const config = {
    logLevel: 'debug',
    pools: [{ name: 'default', poolSize: 1, transport: TRANSPORT, pythonPath: [FIXTURES], ...pool }],
    ...top,
  } as SnakepitConfigInput;
  const sp = await Snakepit.start(config, { ...options, logSink: (r) => logs.push(r) });
  return { sp, logs };
}

/** Resolves when the pool has `size` ready workers again (after a crash or kill). */
export async function waitForFullPool(sp: Snakepit, size: number, timeoutMs = 20_000, pool = 'default'): Promise<void> {
  const p = sp.pool(pool);
  const signal = AbortSignal.timeout(timeoutMs);
  while (p.listWorkers().filter((w) => w.state === 'ready' || w.state === 'busy').length < size) {
    await once(p, 'worker:ready', { signal });
  }
}

/** True while a process exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}
