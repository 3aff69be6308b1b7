import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/index.js';
import { Logger } from '../../../src/logger.js';
import { buildPoolOptions } from '../../../src/pool/pool-options.js';
import { bridgePythonPath } from '../../../src/python/runtime.js';
import {
  buildWorkerEnv,
  HOST_TOOL_TIMEOUT_ENV,
  REQUIRE_THREAD_SAFE_ENV,
  SCHED_POLICY_ENV,
  PROCESS_PROFILE_THREAD_LIMITS,
  THREAD_PROFILE_LIMIT_VARS,
  THREAD_SAFETY_CHECKS_ENV,
  type WorkerEnvOptions,
} from '../../../src/python/worker-env.js';

const THREAD_VARS = ['OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'OMP_NUM_THREADS', 'NUMEXPR_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS'];

function build(options: Partial<WorkerEnvOptions> = {}): Record<string, string> {
  return buildWorkerEnv({ profile: 'process', adapterEnv: {}, pythonPath: [], pythonLogLevel: 'info', base: {}, ...options });
}

const pythonPathOf = (env: Record<string, string>): string[] => (env.PYTHONPATH ?? '').split(path.delimiter);

describe('thread limits', () => {
  it('covers the BLAS/OpenMP pools with one thread each', () => {
    expect(Object.keys(PROCESS_PROFILE_THREAD_LIMITS).sort()).toEqual([...THREAD_VARS].sort());
    expect(Object.isFrozen(PROCESS_PROFILE_THREAD_LIMITS)).toBe(true);
  });

  it.each(THREAD_VARS)('process profile sets %s=1', (name) => {
    expect(build({ profile: 'process' })[name]).toBe('1');
  });

  it.each(THREAD_VARS)('process profile overrides an inherited %s', (name) => {
    expect(build({ profile: 'process', base: { [name]: '16' } })[name]).toBe('1');
  });

  it.each(THREAD_VARS)('thread profile without threadsPerWorker leaves %s unset', (name) => {
    expect(build({ profile: 'thread' })).not.toHaveProperty(name);
  });

  it.each(THREAD_VARS)('thread profile keeps an inherited %s', (name) => {
    expect(build({ profile: 'thread', threadsPerWorker: 8, base: { [name]: '16' } })[name]).toBe('16');
  });

  it('thread profile sets the variables the original sets to threadsPerWorker, not VECLIB_MAXIMUM_THREADS', () => {
    expect([...THREAD_PROFILE_LIMIT_VARS].sort()).toEqual(['MKL_NUM_THREADS', 'NUMEXPR_NUM_THREADS', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS']);
    const env = build({ profile: 'thread', threadsPerWorker: 8 });
    for (const name of THREAD_PROFILE_LIMIT_VARS) expect(env[name]).toBe('8');
    expect(env).not.toHaveProperty('VECLIB_MAXIMUM_THREADS');
  });

  it('thread profile: adapterEnv wins over threadsPerWorker, the rest still follow it', () => {
    const env = build({ profile: 'thread', threadsPerWorker: 4, adapterEnv: { OPENBLAS_NUM_THREADS: '1' } });
    expect(env.OPENBLAS_NUM_THREADS).toBe('1');
    expect(env.OMP_NUM_THREADS).toBe('4');
  });

  it('process profile ignores threadsPerWorker', () => {
    expect(build({ profile: 'process', threadsPerWorker: 8 }).OMP_NUM_THREADS).toBe('1');
  });
});

describe('thread-safety checks', () => {
  it.each([
    ['thread profile, checks on', 'thread', true, '1'],
    ['thread profile, checks off', 'thread', false, undefined],
    ['process profile, checks on', 'process', true, undefined],
  ] as const)('%s', (_label, profile, threadSafetyChecks, expected) => {
    expect(build({ profile, threadSafetyChecks })[THREAD_SAFETY_CHECKS_ENV]).toBe(expected);
  });

  it.each([
    ['the host env', { base: { [THREAD_SAFETY_CHECKS_ENV]: 'strict' } }],
    ['adapterEnv', { adapterEnv: { [THREAD_SAFETY_CHECKS_ENV]: 'strict' } }],
  ])('keeps a value set in %s', (_label, extra) => {
    expect(build({ profile: 'thread', threadSafetyChecks: true, ...extra })[THREAD_SAFETY_CHECKS_ENV]).toBe('strict');
  });

  it.each(['process', 'thread'] as const)('adapterEnv overrides the limits (%s profile)', (profile) => {
    const env = build({ profile, adapterEnv: { OMP_NUM_THREADS: '8', MKL_NUM_THREADS: '4' } });
    expect(env.OMP_NUM_THREADS).toBe('8');
    expect(env.MKL_NUM_THREADS).toBe('4');
    expect(env.OPENBLAS_NUM_THREADS).toBe(profile === 'process' ? '1' : undefined);
  });
});

describe('thread-safety declaration', () => {
  it.each([
    ['required by default', undefined, '1'],
    ['required', true, '1'],
    ['opted out', false, '0'],
  ] as const)('thread profile: %s', (_label, requireThreadSafeAdapter, expected) => {
    expect(build({ profile: 'thread', requireThreadSafeAdapter, base: { [REQUIRE_THREAD_SAFE_ENV]: '0' } })[REQUIRE_THREAD_SAFE_ENV]).toBe(expected);
  });

  it('process profile leaves it out (one call at a time needs no declaration)', () => {
    expect(build({ profile: 'process', requireThreadSafeAdapter: false })).not.toHaveProperty(REQUIRE_THREAD_SAFE_ENV);
  });
});

describe('scheduling policy', () => {
  it.each(['batch', 'inherit'] as const)('the pool\'s %s wins over an inherited value', (schedulingPolicy) => {
    const env = build({ schedulingPolicy, base: { [SCHED_POLICY_ENV]: 'other' }, adapterEnv: { [SCHED_POLICY_ENV]: 'other' } });
    expect(env[SCHED_POLICY_ENV]).toBe(schedulingPolicy);
  });

  it('is left as inherited when no pool sets it (the doctor\'s and typegen\'s one-off workers)', () => {
    expect(build()).not.toHaveProperty(SCHED_POLICY_ENV);
    expect(build({ base: { [SCHED_POLICY_ENV]: 'batch' } })[SCHED_POLICY_ENV]).toBe('batch');
  });

  it.each([[undefined, 'inherit'], ['batch', 'batch']] as const)('a spawned pool\'s workers get the config value (schedulingPolicy %s)', (schedulingPolicy, expected) => {
    const config = resolveConfig({ poolSize: 1, ...(schedulingPolicy === undefined ? {} : { schedulingPolicy }) });
    const options = buildPoolOptions(config.pools[0]!, { runId: 'r1', cwd: process.cwd(), logger: new Logger('none'), services: {}, hostToolTimeoutMs: config.hostToolTimeoutMs });
    expect(options.endpoints.kind).toBe('spawn');
    if (options.endpoints.kind === 'spawn') expect(options.endpoints.template.env[SCHED_POLICY_ENV]).toBe(expected);
  });
});

describe('PYTHONPATH', () => {
  it('is the bridge alone with nothing else given', () => {
    expect(pythonPathOf(build())).toEqual([bridgePythonPath()]);
  });

  it('starts with the bridge package folder of this checkout', () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    expect(bridgePythonPath()).toBe(path.join(root, 'python'));
    expect(pythonPathOf(build({ pythonPath: ['/x'] }))[0]).toBe(bridgePythonPath());
  });

  it('puts the bridge, then pythonPath (resolved), then the inherited PYTHONPATH', () => {
    const inherited = ['/inherited/a', '/inherited/b'].join(path.delimiter);
    const env = build({ pythonPath: ['lib', './src/py', '/abs/dir'], base: { PYTHONPATH: inherited } });
    expect(env.PYTHONPATH).toBe(
      [bridgePythonPath(), path.resolve('lib'), path.resolve('src/py'), '/abs/dir', inherited].join(path.delimiter),
    );
  });

  it('makes every pythonPath entry absolute', () => {
    const parts = pythonPathOf(build({ pythonPath: ['a', '../b', '.'] }));
    expect(parts.every((p) => path.isAbsolute(p))).toBe(true);
    expect(parts.slice(1)).toEqual([path.resolve('a'), path.resolve('../b'), process.cwd()]);
  });

  it('takes the inherited part from adapterEnv.PYTHONPATH over the host one', () => {
    const env = build({ pythonPath: ['/p'], adapterEnv: { PYTHONPATH: '/from/adapter' }, base: { PYTHONPATH: '/from/host' } });
    expect(pythonPathOf(env)).toEqual([bridgePythonPath(), '/p', '/from/adapter']);
  });

  it('leaves out an empty inherited PYTHONPATH', () => {
    expect(pythonPathOf(build({ base: { PYTHONPATH: '' } }))).toEqual([bridgePythonPath()]);
  });
});

describe('other variables', () => {
  it.each([
    ['unset', {}],
    ['set to 0 on the host', { PYTHONUNBUFFERED: '0' }],
  ])('PYTHONUNBUFFERED is 1 when %s', (_label, base) => {
    expect(build({ base }).PYTHONUNBUFFERED).toBe('1');
  });

  it('PYTHONUNBUFFERED wins over adapterEnv too', () => {
    expect(build({ adapterEnv: { PYTHONUNBUFFERED: '0' } }).PYTHONUNBUFFERED).toBe('1');
  });

  it.each([
    ['not set anywhere', {}, {}, 'warning'],
    ['set on the host', { SNAKEPIT_LOG_LEVEL: 'debug' }, {}, 'debug'],
    ['set in adapterEnv', {}, { SNAKEPIT_LOG_LEVEL: 'error' }, 'error'],
  ])('SNAKEPIT_LOG_LEVEL when %s', (_label, base, adapterEnv, expected) => {
    expect(build({ base, adapterEnv, pythonLogLevel: 'warning' }).SNAKEPIT_LOG_LEVEL).toBe(expected);
  });

  it('copies the host env, skipping undefined values, and adds adapterEnv', () => {
    const env = build({ profile: 'thread', base: { HOME: '/home/u', GONE: undefined }, adapterEnv: { MY_FLAG: '1', HOME: '/elsewhere' } });
    expect(env).toStrictEqual({
      HOME: '/elsewhere',
      MY_FLAG: '1',
      PYTHONPATH: bridgePythonPath(),
      PYTHONUNBUFFERED: '1',
      SNAKEPIT_LOG_LEVEL: 'info',
      SNAKEPIT_REQUIRE_THREAD_SAFE: '1',
    });
  });

  it('does not modify base or adapterEnv', () => {
    const base = { PYTHONPATH: '/host', A: 'a' };
    const adapterEnv = { B: 'b' };
    build({ base, adapterEnv, pythonPath: ['/x'] });
    expect(base).toStrictEqual({ PYTHONPATH: '/host', A: 'a' });
    expect(adapterEnv).toStrictEqual({ B: 'b' });
  });

  it('uses process.env when no base is given', () => {
    const env = buildWorkerEnv({ profile: 'thread', adapterEnv: {}, pythonPath: [], pythonLogLevel: 'info' });
    expect(env.PATH).toBe(process.env.PATH);
  });
});

describe('host tool timeout', () => {
  it('sets SNAKEPIT_HOST_TOOL_TIMEOUT_MS from hostToolTimeoutMs, over inherited and adapterEnv values', () => {
    expect(build({ hostToolTimeoutMs: 60_000 })[HOST_TOOL_TIMEOUT_ENV]).toBe('60000');
    const env = build({ hostToolTimeoutMs: 45_000, base: { [HOST_TOOL_TIMEOUT_ENV]: '1' }, adapterEnv: { [HOST_TOOL_TIMEOUT_ENV]: '2' } });
    expect(env[HOST_TOOL_TIMEOUT_ENV]).toBe('45000');
  });

  it('leaves it out without hostToolTimeoutMs (Python then waits its own 30 s)', () => {
    expect(build()).not.toHaveProperty(HOST_TOOL_TIMEOUT_ENV);
  });

  it.each([[undefined, '30000'], [60_000, '60000']])('a spawned pool\'s workers get the config value (hostToolTimeoutMs %s)', (hostToolTimeoutMs, expected) => {
    const config = resolveConfig({ poolSize: 1, ...(hostToolTimeoutMs === undefined ? {} : { hostToolTimeoutMs }) });
    const options = buildPoolOptions(config.pools[0]!, { runId: 'r1', cwd: process.cwd(), logger: new Logger('none'), services: {}, hostToolTimeoutMs: config.hostToolTimeoutMs });
    expect(options.endpoints.kind).toBe('spawn');
    if (options.endpoints.kind === 'spawn') expect(options.endpoints.template.env[HOST_TOOL_TIMEOUT_ENV]).toBe(expected);
  });
});
