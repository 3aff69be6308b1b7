// The logger: levels (warning = warn), per-category levels, withLevel scopes, pino sink, redaction.
import { afterEach, describe, expect, it } from 'vitest';
import { clearProcessLevel, getProcessLevel, Logger, pinoSink, redact, resolveLogLevels, setProcessLevel, withLevel, type LogRecord } from '../../src/logger.js';

const capture = (level: ConstructorParameters<typeof Logger>[0], categories?: Record<string, 'debug' | 'info' | 'warn' | 'warning' | 'error' | 'none'>) => {
  const records: LogRecord[] = [];
  return { records, logger: new Logger(level, (r) => records.push(r), {}, categories) };
};

describe('logger', () => {
  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warning', ['warn', 'error']],
    ['error', ['error']],
    ['none', []],
  ] as const)('level %s lets through %j', (level, expected) => {
    const { records, logger } = capture(level);
    for (const l of ['debug', 'info', 'warn', 'error'] as const) logger.log(l, l);
    expect(records.map((r) => r.level)).toEqual(expected);
  });

  it('a category level overrides the base level, for children too, and can be changed later', () => {
    const { records, logger } = capture('error', { python: 'debug' });
    const python = logger.child({ category: 'python', workerId: 'w1' });
    const pool = logger.child({ category: 'pool' });
    python.debug('from python');
    pool.info('from pool');
    expect(records.map((r) => r.message)).toEqual(['from python']);
    expect(records[0]!.context).toEqual({ category: 'python', workerId: 'w1' });
    logger.setCategoryLevel('pool', 'info');
    pool.info('now visible');
    expect(records.at(-1)!.message).toBe('now visible');
  });

  it('withLevel raises the level inside its async scope only', async () => {
    const { records, logger } = capture('error');
    await withLevel('debug', async () => {
      await Promise.resolve();
      logger.debug('inside');
    });
    logger.debug('outside');
    withLevel('debug', () => logger.child({ category: 'pool' }).debug('other category'), 'worker');
    expect(records.map((r) => r.message)).toEqual(['inside']);
  });

  it('redacts secret-looking keys, one level deep, without touching the original', () => {
    const context = { workerToken: 'abc', nested: { api_key: 'k', ok: 1 }, password: 'p', pool: 'x' };
    expect(redact(context)).toEqual({ workerToken: '[REDACTED]', nested: { api_key: '[REDACTED]', ok: 1 }, password: '[REDACTED]', pool: 'x' });
    expect(context.workerToken).toBe('abc');
    const { records, logger } = capture('info');
    logger.info('x', { authorization: 'Bearer z' });
    expect(records[0]!.context.authorization).toBe('[REDACTED]');
  });

  it('writes into a pino-compatible logger (object first, message second)', () => {
    const calls: unknown[] = [];
    const fake = { debug: () => {}, info: (o: object, m?: string) => calls.push(['info', o, m]), warn: () => {}, error: () => {} };
    new Logger('info', pinoSink(fake)).info('hello', { pool: 'p' });
    expect(calls).toEqual([['info', { pool: 'p' }, 'hello']]);
  });
});

describe('process-wide level (the original set/get/clear_process_level)', () => {
  afterEach(() => clearProcessLevel());

  it('applies to every logger of the process until cleared; withLevel still wins', () => {
    const a = capture('error', { python: 'none' });
    const b = capture('warn');
    expect(getProcessLevel()).toBeUndefined();
    setProcessLevel('debug');
    expect(getProcessLevel()).toBe('debug');
    a.logger.child({ category: 'python' }).debug('a-python');
    b.logger.debug('b');
    withLevel('error', () => b.logger.warn('hidden by withLevel'));
    clearProcessLevel();
    expect(getProcessLevel()).toBeUndefined();
    a.logger.child({ category: 'python' }).error('a-python-after');
    b.logger.debug('b-after');
    expect([...a.records, ...b.records].map((r) => r.message)).toEqual(['a-python', 'b']);
  });

  it('per category: that category only, over the all-categories one; "warning" is stored as warn', () => {
    const { records, logger } = capture('error');
    setProcessLevel('none');
    setProcessLevel('warning', 'heartbeat');
    expect([getProcessLevel('heartbeat'), getProcessLevel('pool'), getProcessLevel()]).toEqual(['warn', 'none', 'none']);
    logger.child({ category: 'heartbeat' }).warn('heartbeat warn');
    logger.child({ category: 'pool' }).error('pool error');
    clearProcessLevel('heartbeat');
    expect(getProcessLevel('heartbeat')).toBe('none');
    expect(records.map((r) => r.message)).toEqual(['heartbeat warn']);
  });

  it('refuses an unknown level', () => {
    expect(() => setProcessLevel('verbose' as 'debug')).toThrow(TypeError);
    expect(getProcessLevel()).toBeUndefined();
  });
});

describe('resolveLogLevels: logLevel plus logCategories sources', () => {
  it.each([
    ['no categories', 'error', [], { level: 'error', categories: {} }],
    ['levels per category, later sources win', 'error', [{ python: 'debug', pool: 'info' }, { pool: 'none' }], { level: 'error', categories: { python: 'debug', pool: 'none' } }],
    ["the original's list: listed categories at logLevel, others warn and up", 'debug', [['lifecycle', 'grpc']], { level: 'warn', categories: { lifecycle: 'debug', grpc: 'debug' } }],
    ['the list never lowers a quieter logLevel', 'error', [['grpc']], { level: 'error', categories: { grpc: 'error' } }],
  ] as const)('%s', (_label, level, sources, expected) => {
    expect(resolveLogLevels(level, ...sources)).toEqual(expected);
  });
});
