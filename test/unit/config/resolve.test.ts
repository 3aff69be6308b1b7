import { availableParallelism } from 'node:os';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import {
  defineConfig,
  resolveConfig,
  type ResolvedConfig,
  type ResolvedPoolConfig,
  type SnakepitConfigInput,
} from '../../../src/config/index.js';

function issuesOf(input: unknown) {
  try {
    resolveConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected resolveConfig to throw');
}

describe('defaults', () => {
  const config = resolveConfig({});
  const pool = config.pools[0]!;

  it('makes one pool named default', () => {
    expect(config.pools.map((p) => p.name)).toEqual(['default']);
  });

  it.each([
    ['workerProfile', 'process'],
    ['startMode', 'spawn'],
    ['schedulingPolicy', 'inherit'],
    ['poolSize', availableParallelism() * 2],
    ['adapter', 'snakepit_bridge.adapters.showcase.ShowcaseAdapter'],
    ['adapterArgs', []],
    ['adapterEnv', {}],
    ['pythonPath', []],
    ['threadsPerWorker', 10],
    ['threadSafetyChecks', false],
    ['requireThreadSafeAdapter', true],
    ['startupBatchSize', 8],
    ['startupBatchDelayMs', 750],
    ['workerTtl', 'infinity'],
    ['workerMaxRequests', 'infinity'],
    ['affinity', 'prefer'],
    ['gracefulShutdownTimeoutMs', 6000],
    ['transport', 'pipe'],
    ['defaultTimeoutMs', 60_000],
    ['defaultStreamTimeoutMs', 300_000],
    ['toolTimeouts', {}],
    ['crashBarrier', { enabled: false, maxRestarts: 5, windowSeconds: 60, retry: 'idempotent', maxRetries: 1, retryBackoff: { initialMs: 50, multiplier: 2, maxMs: 200 }, taintMs: 5_000, markOn: ['segfault', 'oom', 'gpu'] }],
    ['cancelGraceMs', 2000],
    ['poolQueueTimeoutMs', 5000],
    ['poolMaxQueueSize', 1000],
    ['poolStartupTimeoutMs', 10_000],
    ['capacityStrategy', 'pool'],
    ['logLevel', 'error'],
    ['heartbeat', { enabled: true, pingIntervalMs: 2000, timeoutMs: 10_000, maxMissedHeartbeats: 3, initialDelayMs: 0, dependent: true }],
  ] as const)('pool %s defaults to %j', (key, value) => {
    expect(pool[key]).toEqual(value);
  });

  it('leaves pythonExecutable unset so the runtime can search for Python', () => {
    expect('pythonExecutable' in pool).toBe(false);
  });

  it.each([
    ['poolQueueTimeoutMs', 5000],
    ['poolMaxQueueSize', 1000],
    ['poolStartupTimeoutMs', 10_000],
    ['logLevel', 'error'],
    ['capacityStrategy', 'pool'],
    ['grpcHost', '127.0.0.1'],
    ['grpcPort', undefined],
    ['zeroCopy', { enabled: false, thresholdBytes: 1_048_576 }],
    ['crashBarrier', { enabled: false, maxRestarts: 5, windowSeconds: 60, retry: 'idempotent', maxRetries: 1, retryBackoff: { initialMs: 50, multiplier: 2, maxMs: 200 }, taintMs: 5_000, markOn: ['segfault', 'oom', 'gpu'] }],
    ['rogueCleanup', { enabled: true }],
    ['circuitBreaker', { enabled: false, failureThreshold: 5, resetTimeoutMs: 30_000, halfOpenMaxCalls: 1 }],
  ] as const)('top-level %s defaults to %j', (key, value) => {
    expect(config[key]).toEqual(value);
  });

  it('keeps no legacy pool keys at the top level', () => {
    expect(Object.keys(config)).not.toContain('poolSize');
    expect(Object.keys(config)).not.toContain('adapter');
  });
});

describe('legacy single-pool form', () => {
  it('turns top-level pool options into a pool named default', () => {
    const config = resolveConfig({
      poolSize: 3,
      adapter: 'my_adapter.MyAdapter',
      workerProfile: 'thread',
      threadsPerWorker: 4,
      workerTtl: { value: 30, unit: 'minutes' },
      poolQueueTimeoutMs: 100,
    });
    expect(config.pools).toHaveLength(1);
    expect(config.pools[0]).toMatchObject({
      name: 'default',
      poolSize: 3,
      adapter: 'my_adapter.MyAdapter',
      workerProfile: 'thread',
      threadsPerWorker: 4,
      workerTtl: { value: 30, unit: 'minutes' },
      poolQueueTimeoutMs: 100,
      startupBatchSize: 8,
    });
  });
});

describe('multi-pool form', () => {
  const config = resolveConfig({
    pools: [
      { name: 'default', poolSize: 4, adapter: 'my_adapter.MyAdapter' },
      { name: 'ml', workerProfile: 'thread', poolSize: 2, threadsPerWorker: 8, workerMaxRequests: 10_000 },
    ],
    poolQueueTimeoutMs: 7000,
  });

  it('keeps the pools in order, each with its own options and defaults', () => {
    expect(config.pools.map((p) => [p.name, p.poolSize, p.workerProfile])).toEqual([
      ['default', 4, 'process'],
      ['ml', 2, 'thread'],
    ]);
    expect(config.pools[1]).toMatchObject({ threadsPerWorker: 8, workerMaxRequests: 10_000, adapterArgs: [] });
  });

  it('copies top-level options into every pool', () => {
    expect(config.pools.map((p) => p.poolQueueTimeoutMs)).toEqual([7000, 7000]);
  });
});

describe('inheritance of top-level options', () => {
  it.each([
    ['poolQueueTimeoutMs', 1234, 99],
    ['poolMaxQueueSize', 50, 7],
    ['poolStartupTimeoutMs', 30_000, 60_000],
    ['capacityStrategy', 'hybrid', 'profile'],
    ['logLevel', 'debug', 'error'],
    ['pythonExecutable', '/usr/bin/python3', '/opt/venv/bin/python'],
  ] as const)('%s: a pool without it inherits the top level; a pool with it keeps its own', (key, top, own) => {
    const config = resolveConfig({ [key]: top, pools: [{ name: 'a' }, { name: 'b', [key]: own }] });
    expect(config.pools.map((p) => p[key])).toEqual([top, own]);
  });

  it('merges heartbeat field by field: pool, then top level, then defaults', () => {
    const config = resolveConfig({
      heartbeat: { pingIntervalMs: 5000, maxMissedHeartbeats: 5 },
      pools: [{ name: 'a' }, { name: 'b', heartbeat: { pingIntervalMs: 10_000, enabled: false } }],
    });
    expect(config.pools[0]!.heartbeat).toEqual({
      enabled: true,
      pingIntervalMs: 5000,
      timeoutMs: 10_000,
      maxMissedHeartbeats: 5,
      initialDelayMs: 0,
      dependent: true,
    });
    expect(config.pools[1]!.heartbeat).toMatchObject({ enabled: false, pingIntervalMs: 10_000, maxMissedHeartbeats: 5 });
  });

  it('merges crashBarrier field by field (retryBackoff too): pool, then top level, then defaults', () => {
    const config = resolveConfig({
      crashBarrier: { enabled: true, maxRetries: 3, retryBackoff: { initialMs: 100, maxMs: 1_000 } },
      pools: [{ name: 'a' }, { name: 'b', crashBarrier: { retry: 'always', markOn: ['exit_code'], retryBackoff: { multiplier: 4 } } }],
    });
    const [a, b] = config.pools;
    expect(a!.crashBarrier).toEqual({ ...config.crashBarrier, retryBackoff: { initialMs: 100, multiplier: 2, maxMs: 1_000 } });
    expect(b!.crashBarrier).toEqual({
      enabled: true,
      maxRestarts: 5,
      windowSeconds: 60,
      retry: 'always',
      maxRetries: 3,
      retryBackoff: { initialMs: 100, multiplier: 4, maxMs: 1_000 },
      taintMs: 5_000,
      markOn: ['exit_code'],
    });
    expect(Object.isFrozen(b!.crashBarrier.retryBackoff)).toBe(true);
  });

  it("keeps logCategories in either form, with 'warning' stored as 'warn'; unset is {}", () => {
    expect(resolveConfig({}).logCategories).toEqual({});
    expect(resolveConfig({ logCategories: { python: 'warning' } }).logCategories).toEqual({ python: 'warn' });
    expect(resolveConfig({ logCategories: ['lifecycle', 'grpc'] }).logCategories).toEqual(['lifecycle', 'grpc']);
  });

  it("stores the original's 'warning' spelling as 'warn'", () => {
    const config = resolveConfig({ logLevel: 'warning', pools: [{ name: 'a', logLevel: 'warning' }] });
    expect([config.logLevel, config.pools[0]!.logLevel]).toEqual(['warn', 'warn']);
  });
});

describe('resolved config', () => {
  const input = { pools: [{ name: 'a', adapterArgs: ['--x'], adapterEnv: { A: '1' } }] };
  const config = resolveConfig(input);

  it.each([
    ['the config', config],
    ['pools', config.pools],
    ['a pool', config.pools[0]],
    ['adapterArgs', config.pools[0]!.adapterArgs],
    ['adapterEnv', config.pools[0]!.adapterEnv],
    ['heartbeat', config.pools[0]!.heartbeat],
    ['zeroCopy', config.zeroCopy],
  ])('freezes %s', (_, value) => {
    expect(Object.isFrozen(value)).toBe(true);
  });

  it('does not touch the input', () => {
    expect(input).toEqual({ pools: [{ name: 'a', adapterArgs: ['--x'], adapterEnv: { A: '1' } }] });
    expect(Object.isFrozen(input.pools)).toBe(false);
  });

  it('resolves to itself when resolved again', () => {
    expect(resolveConfig(config)).toEqual(config);
  });

  it('gives each config fresh default arrays', () => {
    expect(resolveConfig({}).pools[0]!.adapterArgs).not.toBe(resolveConfig({}).pools[0]!.adapterArgs);
  });
});

describe('pool layout errors', () => {
  it.each([
    ['poolSize', 4],
    ['adapter', 'my_adapter.MyAdapter'],
    ['workerProfile', 'thread'],
    ['adapterEnv', { A: '1' }],
  ])('rejects top-level %s together with pools', (key, value) => {
    const issues = issuesOf({ [key]: value, pools: [{ name: 'a' }] });
    expect(issues).toEqual([
      expect.objectContaining({
        path: key,
        expected: 'unset at the top level when `pools` is given (move it into a pool)',
      }),
    ]);
  });

  it.each([
    ['named twice', [{ name: 'x' }, { name: 'y' }, { name: 'x' }], 'pools[2].name', '"x" (string)'],
    ['both unnamed', [{ poolSize: 1 }, { poolSize: 2 }], 'pools[1].name', '"default" (string)'],
    ['unnamed and default', [{ name: 'default' }, {}], 'pools[1].name', '"default" (string)'],
  ])('rejects duplicate pool names (%s)', (_, pools, path, received) => {
    expect(issuesOf({ pools })).toEqual([{ path, expected: 'a unique pool name', received, message: expect.any(String) }]);
  });

  it('accepts the top-level shared options together with pools', () => {
    expect(() =>
      resolveConfig({ pools: [{ name: 'a' }], heartbeat: { enabled: false }, logLevel: 'info', poolMaxQueueSize: 5 }),
    ).not.toThrow();
  });
});

describe('types', () => {
  it('defineConfig takes the input type and returns it unchanged', () => {
    const input = { pools: [{ name: 'ml', workerProfile: 'thread', threadsPerWorker: 8 }] } as const;
    expect(defineConfig(input)).toBe(input);
    expectTypeOf(defineConfig).parameter(0).toEqualTypeOf<SnakepitConfigInput>();
    expectTypeOf(defineConfig).returns.toEqualTypeOf<SnakepitConfigInput>();
  });

  it('accepts read-only input, including a resolved config', () => {
    expectTypeOf<ResolvedConfig>().toExtend<SnakepitConfigInput>();
    expectTypeOf<{ readonly pools: readonly [{ readonly adapterArgs: readonly ['--x'] }] }>().toExtend<SnakepitConfigInput>();
  });

  it('makes every input field optional', () => {
    expectTypeOf({}).toExtend<SnakepitConfigInput>();
    expectTypeOf({ pools: [{}] }).toExtend<SnakepitConfigInput>();
  });

  it('types option values', () => {
    expectTypeOf<{ poolSize: string }>().not.toExtend<SnakepitConfigInput>();
    expectTypeOf<{ workerProfile: 'fiber' }>().not.toExtend<SnakepitConfigInput>();
    expectTypeOf<{ workerTtl: { value: 1; unit: 'days' } }>().not.toExtend<SnakepitConfigInput>();
    expectTypeOf<{ workerTtl: { value: 1; unit: 'hours' } }>().toExtend<SnakepitConfigInput>();
    expectTypeOf<{ logLevel: 'warning' }>().toExtend<SnakepitConfigInput>();
  });

  it('resolves to read-only, fully filled types', () => {
    expectTypeOf<ResolvedConfig['pools']>().toEqualTypeOf<readonly ResolvedPoolConfig[]>();
    expectTypeOf<ResolvedPoolConfig['poolSize']>().toEqualTypeOf<number>();
    expectTypeOf<ResolvedPoolConfig['poolQueueTimeoutMs']>().toEqualTypeOf<number>();
    expectTypeOf<ResolvedPoolConfig['heartbeat']['pingIntervalMs']>().toEqualTypeOf<number>();
    expectTypeOf<ResolvedPoolConfig['logLevel']>().toEqualTypeOf<'debug' | 'info' | 'warn' | 'error' | 'none'>();
    expectTypeOf<ResolvedPoolConfig['adapterArgs']>().toEqualTypeOf<readonly string[]>();
    expectTypeOf<ResolvedPoolConfig['pythonExecutable']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ResolvedPoolConfig>().not.toHaveProperty('pools');
  });
});
