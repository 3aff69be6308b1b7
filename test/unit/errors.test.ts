import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ConfigError,
  type ConfigIssue,
  type ErrorCategory,
  type ErrorCode,
  isSnakepitError,
  PoolError,
  PythonError,
  SnakepitError,
  TimeoutError,
  ValidationError,
  WorkerError,
} from '../../src/errors.js';

const issue: ConfigIssue = { path: 'poolSize', expected: 'an integer >= 1', received: '0 (number)', message: 'bad poolSize' };

/** [class name, instance, code, category]. */
const ERRORS: [string, SnakepitError, ErrorCode, ErrorCategory][] = [
  ['SnakepitError', new SnakepitError('m', { code: 'protocol_error', category: 'worker' }), 'protocol_error', 'worker'],
  ['ValidationError', new ValidationError('m', 'invalid_argument'), 'invalid_argument', 'validation'],
  ['ConfigError', new ConfigError([issue], 'snakepit.config.ts'), 'invalid_config', 'validation'],
  ['PoolError', new PoolError('m', 'pool_saturated'), 'pool_saturated', 'pool'],
  ['TimeoutError', new TimeoutError('m', 'call_timeout', 500), 'call_timeout', 'timeout'],
  ['WorkerError', new WorkerError('m', 'worker_crashed'), 'worker_crashed', 'worker'],
  ['PythonError', new PythonError('m', { exceptionType: 'ValueError', pythonTraceback: 'tb' }), 'python_error', 'python_error'],
  ['AbortError', new AbortError(undefined, 'queued'), 'aborted', 'worker'],
];

describe.each(ERRORS)('%s', (className, error, code, category) => {
  it('has its code and category', () => {
    expect(error).toMatchObject({ code, category });
  });

  it('is an Error, a SnakepitError and branded', () => {
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(SnakepitError);
    expect(isSnakepitError(error)).toBe(true);
  });

  it('has a non-enumerable name equal to the class name', () => {
    expect(error.name).toBe(className);
    expect(error.constructor.name).toBe(className);
    const descriptor = Object.getOwnPropertyDescriptor(error, 'name');
    expect(descriptor?.enumerable).toBe(false);
    expect(Object.keys(error)).not.toContain('name');
  });

  it('keeps its brand out of enumeration', () => {
    expect(Object.getOwnPropertySymbols({ ...error })).toEqual([]);
  });

  it('serialises to name, code, category, message and details', () => {
    expect(JSON.parse(JSON.stringify(error))).toStrictEqual({
      name: className,
      code,
      category,
      message: error.message,
      details: JSON.parse(JSON.stringify(error.details)),
    });
    expect(Object.keys(error.toJSON()).sort()).toEqual(['category', 'code', 'details', 'message', 'name']);
  });
});

describe('isSnakepitError', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'snakepit'],
    ['a number', 1],
    ['a plain Error', new Error('x')],
    ['an error-shaped object', { name: 'PoolError', code: 'pool_saturated', category: 'pool' }],
    ['a brand that is not true', { [Symbol.for('snakepit.error')]: 'yes' }],
    ['a local symbol of the same name', { [Symbol('snakepit.error')]: true }],
  ])('is false for %s', (_label, value) => {
    expect(isSnakepitError(value)).toBe(false);
  });

  it('is true for an error from another copy of the package (shared global symbol)', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('snakepit.error')]: true });
    expect(isSnakepitError(foreign)).toBe(true);
  });
});

describe('details and extra fields', () => {
  it('defaults details to an empty object', () => {
    expect(new PoolError('m', 'pool_stopped').details).toStrictEqual({});
    expect(new SnakepitError('m', { code: 'pool_stopped', category: 'pool' }).details).toStrictEqual({});
  });

  it('sets cause only when given', () => {
    const cause = new Error('root');
    expect(new SnakepitError('m', { code: 'protocol_error', category: 'worker', cause }).cause).toBe(cause);
    expect('cause' in new SnakepitError('m', { code: 'protocol_error', category: 'worker' })).toBe(false);
  });

  it('ConfigError carries its issues and source', () => {
    const error = new ConfigError([issue], 'snakepit.config.ts');
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues).toStrictEqual([issue]);
    expect(error.details).toStrictEqual({ issues: [issue], source: 'snakepit.config.ts' });
  });

  it('TimeoutError puts timeoutMs into details', () => {
    const error = new TimeoutError('m', 'queue_timeout', 250, { tool: 'echo' });
    expect(error.timeoutMs).toBe(250);
    expect(error.details).toStrictEqual({ tool: 'echo', timeoutMs: 250 });
  });

  it('WorkerError exposes workerId, exitCode and signal from details', () => {
    const cause = new Error('exit');
    const error = new WorkerError('m', 'worker_crashed', { workerId: 'w1', exitCode: null, signal: 'SIGKILL', extra: 1 }, cause);
    expect(error).toMatchObject({ workerId: 'w1', exitCode: null, signal: 'SIGKILL', cause });
    expect(error.details).toStrictEqual({ workerId: 'w1', exitCode: null, signal: 'SIGKILL', extra: 1 });
  });

  it('WorkerError without details has no worker fields', () => {
    const error = new WorkerError('m', 'protocol_error');
    expect(error.workerId).toBeUndefined();
    expect(error.exitCode).toBeUndefined();
    expect(error.signal).toBeUndefined();
  });

  it('AbortError keeps the signal reason as cause and the stage in details', () => {
    const reason = new Error('user stop');
    expect(new AbortError(reason, 'running')).toMatchObject({ code: 'aborted', cause: reason, details: { stage: 'running' } });
  });
});

describe('PythonError', () => {
  it.each([
    [undefined, 'python_error', 'python_error'],
    ['python_error', 'python_error', 'python_error'],
    ['unknown_tool', 'unknown_tool', 'validation'],
    ['invalid_args', 'invalid_args', 'validation'],
    ['cancelled', 'cancelled', 'python_error'],
  ] as [ErrorCode | undefined, ErrorCode, ErrorCategory][])('code %s -> %s / %s', (given, code, category) => {
    const error = new PythonError('m', { exceptionType: 'E', pythonTraceback: '', ...(given ? { code: given } : {}) });
    expect(error).toMatchObject({ code, category });
  });

  it('keeps the exception type and traceback', () => {
    const error = new PythonError('m', { exceptionType: 'KeyError', pythonTraceback: 'Traceback...', details: { key: 'k' } });
    expect(error.exceptionType).toBe('KeyError');
    expect(error.pythonTraceback).toBe('Traceback...');
    expect(error.details).toStrictEqual({ key: 'k', exceptionType: 'KeyError' });
  });
});
