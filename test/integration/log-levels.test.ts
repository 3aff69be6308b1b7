// Log levels with real workers: quiet by default (error, as the original), logCategories from the config (both forms),
// and the process-wide setProcessLevel/clearProcessLevel over a running instance.
import { afterEach, describe, expect, it } from 'vitest';
import { clearProcessLevel, setProcessLevel, type Snakepit } from '../../src/index.js';
import type { LogRecord } from '../../src/logger.js';
import { startPool } from '../helpers/pool.js';

const NOISY = { adapter: 'noisy_adapter.NoisyAdapter' };
const PRINTED = 'noisy call: hello from print()'; // Python stdout: logged at info, category python

afterEach(() => clearProcessLevel());

/**
 * Starts a noisy pool, runs `before` (after the start, before the call), one call, and stops: a stop
 * waits for the workers' exit and their output, so every line the call printed has been judged.
 */
async function oneCall(
  top: Record<string, unknown>,
  before: (sp: Snakepit) => void = () => {},
  call: { pool: Record<string, unknown>; tool: string; args: Record<string, unknown> } = { pool: NOISY, tool: 'echo', args: { x: 1 } },
): Promise<{ all: LogRecord[]; call: LogRecord[] }> {
  const { sp, logs } = await startPool(call.pool, top);
  const from = logs.length;
  try {
    before(sp);
    await sp.execute(call.tool, call.args);
  } finally {
    await sp.stop();
  }
  return { all: logs, call: logs.slice(from) };
}

const messages = (records: LogRecord[]) => records.map((r) => r.message);

describe('log levels', () => {
  it('the default logLevel is error: nothing below it is logged', async () => {
    let level: string | undefined;
    const { all } = await oneCall({ logLevel: undefined }, (sp) => (level = sp.config.logLevel));
    expect(level).toBe('error');
    expect(all.filter((r) => r.level !== 'error')).toEqual([]);
  });

  it('config logCategories { python: "info" } lets Python lines through, other categories stay at logLevel', async () => {
    const { all } = await oneCall({ logLevel: 'error', logCategories: { python: 'info' } });
    expect(messages(all)).toContain(PRINTED);
    expect(all.filter((r) => r.level !== 'error' && r.context.category !== 'python')).toEqual([]);
  });

  it("a python category level is also Python's own logging level (SNAKEPIT_LOG_LEVEL)", async () => {
    const warning = { pool: { adapter: 'telemetry_adapter.TelemetryAdapter' }, tool: 'log_warning', args: { text: 'careful now' } };
    const quiet = await oneCall({ logLevel: 'error' }, undefined, warning);
    expect(quiet.all.filter((r) => r.message.includes('careful now'))).toEqual([]);
    const loud = await oneCall({ logLevel: 'error', logCategories: { python: 'warn' } }, undefined, warning);
    expect(loud.call.filter((r) => r.message.includes('careful now'))).toMatchObject([{ level: 'warn', context: { category: 'python' } }]);
  });

  it("the original's list form: listed categories at logLevel, the others warnings and errors only", async () => {
    const { all } = await oneCall({ logLevel: 'debug', logCategories: ['python'] });
    expect(messages(all)).toContain(PRINTED);
    expect(all.filter((r) => (r.level === 'debug' || r.level === 'info') && r.context.category !== 'python')).toEqual([]);
  });

  it('setProcessLevel changes a running instance; after clearProcessLevel the config level holds again', async () => {
    const raised = await oneCall({ logLevel: 'error' }, () => setProcessLevel('info', 'python'));
    expect(messages(raised.call)).toContain(PRINTED);
    clearProcessLevel();
    const cleared = await oneCall({ logLevel: 'error' });
    expect(messages(cleared.call)).not.toContain(PRINTED);
  });
});
