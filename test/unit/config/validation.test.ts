import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { describeValue, formatPath, resolveConfig } from '../../../src/config/index.js';

function errorOf(input: unknown, source?: string): ConfigError {
  try {
    resolveConfig(input, source);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected resolveConfig to throw');
}

const INT_GE_1 = 'an integer >= 1';
const INT_GE_0 = 'an integer >= 0';
const DNS_NAME_PORT = "'name:port' (a DNS name and a port from 1 to 65535), e.g. 'snakepit-workers.ml.svc.cluster.local:50051'";
const DNS_SERVER = "an IP address with an optional port: '10.0.0.10', '10.0.0.10:53', '[fd00::a]:53'";

describe('invalid fields', () => {
  it.each([
    // [input, path, expected, received]
    [5, '', 'an object', '5 (number)'],
    [{ pools: [] }, 'pools', 'a non-empty array of pool objects', '[] (array)'],
    [{ pools: {} }, 'pools', 'a non-empty array of pool objects', '{} (object)'],
    [{ pools: [{ poolSize: 0 }] }, 'pools[0].poolSize', INT_GE_1, '0 (number)'],
    [{ pools: [{ poolSize: 1.5 }] }, 'pools[0].poolSize', INT_GE_1, '1.5 (number)'],
    [{ pools: [{ poolSize: '4' }] }, 'pools[0].poolSize', INT_GE_1, '"4" (string)'],
    [{ poolSize: -1 }, 'poolSize', INT_GE_1, '-1 (number)'],
    [{ pools: [{ name: '' }] }, 'pools[0].name', "a pool name of letters, digits, '_', '-' or '.'", '"" (string)'],
    [{ pools: [{ name: 'a b' }] }, 'pools[0].name', "a pool name of letters, digits, '_', '-' or '.'", '"a b" (string)'],
    [{ workerProfile: 'fiber' }, 'workerProfile', "one of 'process' | 'thread'", '"fiber" (string)'],
    [{ adapter: 'MyAdapter' }, 'adapter', "a Python class path like 'package.module.ClassName'", '"MyAdapter" (string)'],
    [{ adapterArgs: '--x' }, 'adapterArgs', 'an array of strings', '"--x" (string)'],
    [{ adapterArgs: ['--x', 1] }, 'adapterArgs[1]', 'a string', '1 (number)'],
    [{ adapterEnv: { OMP_NUM_THREADS: 1 } }, 'adapterEnv.OMP_NUM_THREADS', 'a string', '1 (number)'],
    [{ adapterEnv: { 'A=B': 'x' } }, 'adapterEnv["A=B"]', "an environment variable name (non-empty, no '=')", '"A=B" (string)'],
    [{ adapterEnv: [] }, 'adapterEnv', 'an object of string values', '[] (array)'],
    [{ pythonExecutable: '' }, 'pythonExecutable', 'a non-empty string', '"" (string)'],
    [{ pythonPath: [null] }, 'pythonPath[0]', 'a string', 'null'],
    [{ threadsPerWorker: 0 }, 'threadsPerWorker', INT_GE_1, '0 (number)'],
    [{ threadSafetyChecks: 'yes' }, 'threadSafetyChecks', 'a boolean', '"yes" (string)'],
    [{ schedulingPolicy: 'idle' }, 'schedulingPolicy', "one of 'batch' | 'inherit'", '"idle" (string)'],
    [{ startupBatchSize: 0 }, 'startupBatchSize', INT_GE_1, '0 (number)'],
    [{ startupBatchDelayMs: -5 }, 'startupBatchDelayMs', INT_GE_0, '-5 (number)'],
    [{ workerTtl: 'forever' }, 'workerTtl', "'infinity' or { value: integer >= 1, unit: 'seconds' | 'minutes' | 'hours' }", '"forever" (string)'],
    [{ workerTtl: 3600 }, 'workerTtl', "'infinity' or { value: integer >= 1, unit: 'seconds' | 'minutes' | 'hours' }", '3600 (number)'],
    [{ workerTtl: { value: 0, unit: 'hours' } }, 'workerTtl.value', INT_GE_1, '0 (number)'],
    [{ workerTtl: { value: 1, unit: 'days' } }, 'workerTtl.unit', "one of 'seconds' | 'minutes' | 'hours'", '"days" (string)'],
    [{ workerTtl: { value: 1 } }, 'workerTtl.unit', "one of 'seconds' | 'minutes' | 'hours'", 'undefined'],
    [{ workerMaxRequests: 0 }, 'workerMaxRequests', "'infinity' or an integer >= 1", '0 (number)'],
    [{ workerMaxRequests: 'never' }, 'workerMaxRequests', "'infinity' or an integer >= 1", '"never" (string)'],
    [{ affinity: 'strict' }, 'affinity', "one of 'prefer' | 'strict_queue' | 'strict_fail_fast'", '"strict" (string)'],
    [{ gracefulShutdownTimeoutMs: -1 }, 'gracefulShutdownTimeoutMs', INT_GE_0, '-1 (number)'],
    [{ transport: 'http' }, 'transport', "one of 'pipe' | 'grpc'", '"http" (string)'],
    [{ startMode: 'forkserver' }, 'startMode', "one of 'spawn' | 'fork'", '"forkserver" (string)'],
    [
      { pools: [{ transport: 'grpc', startMode: 'fork', workers: [{ address: 'unix:/tmp/w.sock' }] }] },
      'pools[0].startMode',
      "'spawn' or unset (attached workers are started by something else)",
      '"fork" (string)',
    ],
    [{ defaultTimeoutMs: 0 }, 'defaultTimeoutMs', INT_GE_1, '0 (number)'],
    [{ defaultStreamTimeoutMs: 0 }, 'defaultStreamTimeoutMs', INT_GE_1, '0 (number)'],
    [{ cancelGraceMs: -1 }, 'cancelGraceMs', INT_GE_0, '-1 (number)'],
    [{ poolQueueTimeoutMs: 0 }, 'poolQueueTimeoutMs', INT_GE_1, '0 (number)'],
    [{ pools: [{ poolQueueTimeoutMs: 0 }] }, 'pools[0].poolQueueTimeoutMs', INT_GE_1, '0 (number)'],
    [{ poolMaxQueueSize: 'many' }, 'poolMaxQueueSize', INT_GE_1, '"many" (string)'],
    [{ pools: [{ poolMaxQueueSize: -1 }] }, 'pools[0].poolMaxQueueSize', INT_GE_1, '-1 (number)'],
    [{ poolStartupTimeoutMs: 0 }, 'poolStartupTimeoutMs', INT_GE_1, '0 (number)'],
    [{ capacityStrategy: 'shared' }, 'capacityStrategy', "one of 'pool' | 'profile' | 'hybrid'", '"shared" (string)'],
    [{ logLevel: 'verbose' }, 'logLevel', "one of 'debug' | 'info' | 'warn' | 'error' | 'none'", '"verbose" (string)'],
    [{ pools: [{ logLevel: 1 }] }, 'pools[0].logLevel', "one of 'debug' | 'info' | 'warn' | 'error' | 'none'", '1 (number)'],
    [{ logCategories: 'python' }, 'logCategories', "an object of category levels ({ python: 'debug' }) or an array of category names", '"python" (string)'],
    [{ logCategories: { python: 'loud' } }, 'logCategories.python', "one of 'debug' | 'info' | 'warn' | 'error' | 'none'", '"loud" (string)'],
    [{ logCategories: ['python', ''] }, 'logCategories[1]', 'a non-empty string', '"" (string)'],
    [{ python: { requirements: 'requirements.txt' } }, 'python.requirements', 'an array of strings', '"requirements.txt" (string)'],
    [{ pools: [{ threadLimits: { openblas: 0 } }] }, 'pools[0].threadLimits.openblas', INT_GE_1, '0 (number)'],
    [{ threadLimits: 4 }, 'threadLimits', 'an object of integers >= 1 for openblas, omp, mkl, numexpr, veclib', '4 (number)'],
    [{ heartbeat: false }, 'heartbeat', 'an object', 'false (boolean)'],
    [{ heartbeat: { enabled: 'yes' } }, 'heartbeat.enabled', 'a boolean', '"yes" (string)'],
    [{ heartbeat: { pingIntervalMs: 0 } }, 'heartbeat.pingIntervalMs', INT_GE_1, '0 (number)'],
    [{ heartbeat: { timeoutMs: 0 } }, 'heartbeat.timeoutMs', INT_GE_1, '0 (number)'],
    [{ heartbeat: { maxMissedHeartbeats: 0 } }, 'heartbeat.maxMissedHeartbeats', INT_GE_1, '0 (number)'],
    [{ heartbeat: { initialDelayMs: -1 } }, 'heartbeat.initialDelayMs', INT_GE_0, '-1 (number)'],
    [{ pools: [{ heartbeat: { dependent: 1 } }] }, 'pools[0].heartbeat.dependent', 'a boolean', '1 (number)'],
    [{ grpcHost: '' }, 'grpcHost', 'a non-empty string', '"" (string)'],
    [{ grpcPort: 70_000 }, 'grpcPort', 'an integer from 0 to 65535', '70000 (number)'],
    [{ zeroCopy: { thresholdBytes: 0 } }, 'zeroCopy.thresholdBytes', INT_GE_1, '0 (number)'],
    [{ crashBarrier: { maxRestarts: 0 } }, 'crashBarrier.maxRestarts', INT_GE_1, '0 (number)'],
    [{ crashBarrier: { retry: 'sometimes' } }, 'crashBarrier.retry', "one of 'always' | 'idempotent' | 'never'", '"sometimes" (string)'],
    [{ crashBarrier: { markOn: ['segv'] } }, 'crashBarrier.markOn[0]', expect.stringContaining("'segfault'"), '"segv" (string)'],
    [{ crashBarrier: { markOn: 'oom' } }, 'crashBarrier.markOn', expect.stringContaining('an array of crash kinds'), '"oom" (string)'],
    [{ crashBarrier: { retryBackoff: { multiplier: 0.5 } } }, 'crashBarrier.retryBackoff.multiplier', 'a number >= 1', '0.5 (number)'],
    [{ pools: [{ crashBarrier: { retryBackoff: { initialMs: -1 } } }] }, 'pools[0].crashBarrier.retryBackoff.initialMs', INT_GE_0, '-1 (number)'],
    [{ pools: [{ crashBarrier: { taintMs: 'long' } }] }, 'pools[0].crashBarrier.taintMs', INT_GE_0, '"long" (string)'],
    [{ pools: [{ toolTimeouts: { train: 0 } }] }, 'pools[0].toolTimeouts.train', expect.any(String), '0 (number)'],
    [{ pools: [{ toolTimeouts: ['train'] }] }, 'pools[0].toolTimeouts', "an object of tool names to timeouts in ms (integers >= 1) or 'infinity'", '["train"] (array)'],
    [{ circuitBreaker: { enabled: 'on' } }, 'circuitBreaker.enabled', 'a boolean', '"on" (string)'],
    [{ transport: 'grpc', discovery: { dns: 'workers.ml.svc' } }, 'discovery.dns', DNS_NAME_PORT, '"workers.ml.svc" (string)'],
    [{ transport: 'grpc', discovery: { dns: 'workers:0' } }, 'discovery.dns', DNS_NAME_PORT, '"workers:0" (string)'],
    [{ transport: 'grpc', discovery: { dns: 'bad name:50051' } }, 'discovery.dns', DNS_NAME_PORT, '"bad name:50051" (string)'],
    [{ transport: 'grpc', discovery: { dns: 'w:1', intervalMs: 0 } }, 'discovery.intervalMs', INT_GE_1, '0 (number)'],
    [{ transport: 'grpc', discovery: { dns: 'w:1', dnsServers: ['dns.local'] } }, 'discovery.dnsServers[0]', DNS_SERVER, '"dns.local" (string)'],
    [{ transport: 'grpc', discovery: { dns: 'w:1', dnsServers: [] } }, 'discovery.dnsServers', 'a non-empty array of DNS server addresses', '[] (array)'],
    [{ transport: 'grpc', discovery: { dns: 'w:1', every: 5 } }, 'discovery.every', expect.any(String), '5 (number)'],
    [{ pools: [{ discovery: { dns: 'w:1' } }] }, 'pools[0].transport', "'grpc' (attached workers are reached over gRPC)", '"pipe" (string)'],
    [{ transport: 'grpc', workers: [{ address: 'a:1' }], discovery: { dns: 'w:1' } }, 'discovery', 'unset when `workers` is given (the workers come from one of them)', expect.any(String)],
  ])('%j -> %s', (input, path, expected, received) => {
    const error = errorOf(input);
    expect(error.code).toBe('invalid_config');
    expect(error.category).toBe('validation');
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toEqual({ path, expected, received, message: expect.any(String) });
  });

  it('writes the message from the field, the expectation and the value', () => {
    expect(errorOf({ pools: [{ poolSize: 0 }] }).issues[0]!.message).toBe(
      'Expected `pools[0].poolSize` to be an integer >= 1, got 0 (number)',
    );
  });

  it('reports every problem at once', () => {
    const error = errorOf({ pools: [{ name: 'x', poolSize: 0 }, { name: 'x', transport: 'tcp' }], poolSize: 2, bogus: 1 });
    expect(error.issues.map((i) => i.path).sort()).toEqual(
      ['bogus', 'poolSize', 'pools[0].poolSize', 'pools[1].name', 'pools[1].transport'].sort(),
    );
  });

  it('names the source in the error', () => {
    const error = errorOf({ poolSize: 0 }, '/app/snakepit.config.json');
    expect(error.details).toMatchObject({ source: '/app/snakepit.config.json' });
    expect(error.message).toContain('/app/snakepit.config.json');
  });
});

describe('unknown options', () => {
  it.each([
    // [input, path, suggestion]
    [{ poolSzie: 4 }, 'poolSzie', 'poolSize'],
    [{ pool_size: 4 }, 'pool_size', 'poolSize'],
    [{ pools: [{ pool_size: 4 }] }, 'pools[0].pool_size', 'poolSize'],
    [{ pool_queue_timeout: 10 }, 'pool_queue_timeout', 'poolQueueTimeoutMs'],
    [{ adapter_module: 'x' }, 'adapter_module', 'adapter'],
    [{ adapterSpec: 'x.Y' }, 'adapterSpec', 'adapter'],
    [{ worker_profile: 'thread' }, 'worker_profile', 'workerProfile'],
    [{ threads_per_worker: 4 }, 'threads_per_worker', 'threadsPerWorker'],
    [{ graceful_shutdown_timeout_ms: 1 }, 'graceful_shutdown_timeout_ms', 'gracefulShutdownTimeoutMs'],
    [{ heartbeat: { ping_interval_ms: 1 } }, 'heartbeat.ping_interval_ms', 'pingIntervalMs'],
    [{ heartbeat: { max_missed_heartbeats: 1 } }, 'heartbeat.max_missed_heartbeats', 'maxMissedHeartbeats'],
    [{ pools: [{ heartbeat: { timeout: 1 } }] }, 'pools[0].heartbeat.timeout', 'timeoutMs'],
    [{ workerTtl: { value: 1, unit: 'hours', units: 'x' } }, 'workerTtl.units', 'unit'],
  ])('%j -> did you mean?', (input, path, suggestion) => {
    const [issue, ...rest] = errorOf(input).issues;
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ path, expected: `a known option (did you mean \`${suggestion}\`?)` });
    expect(issue!.message).toBe(`Unknown option \`${path}\`; did you mean \`${suggestion}\`?`);
  });

  it('lists the known options when nothing is close', () => {
    const [issue] = errorOf({ heartbeat: { frobnicate: true } }).issues;
    expect(issue).toMatchObject({ path: 'heartbeat.frobnicate', expected: 'a known option', received: 'true (boolean)' });
    expect(issue!.message).toContain('`pingIntervalMs`');
  });

  it('names the offending key and its value when a pool option sits at the top level beside pools', () => {
    const error = errorOf({ pools: [{ name: 'a' }], poolSize: 3, adapterEnv: { A: 'b' } });
    expect(error.issues).toEqual([
      expect.objectContaining({ path: 'poolSize', received: '3 (number)' }),
      expect.objectContaining({ path: 'adapterEnv', received: '{"A":"b"} (object)' }),
    ]);
  });

  it('rejects a pool name at the top level (the legacy pool is always "default")', () => {
    expect(errorOf({ name: 'main', poolSize: 2 }).issues.map((i) => i.path)).toEqual(['name']);
  });
});

describe('formatting helpers', () => {
  it.each([
    [[], ''],
    [['poolSize'], 'poolSize'],
    [['pools', 0, 'poolSize'], 'pools[0].poolSize'],
    [['adapterEnv', 'MY-VAR'], 'adapterEnv["MY-VAR"]'],
    [['pools', 2, 'heartbeat', 'timeoutMs'], 'pools[2].heartbeat.timeoutMs'],
  ])('formatPath(%j) = %s', (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });

  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  it.each([
    [0, '0 (number)'],
    [Number.NaN, 'NaN (number)'],
    ['x', '"x" (string)'],
    [true, 'true (boolean)'],
    [null, 'null'],
    [undefined, 'undefined'],
    [10n, '10n (bigint)'],
    [[1, 2], '[1,2] (array)'],
    [{ a: 1 }, '{"a":1} (object)'],
    [() => 1, 'a function'],
    [cyclic, '[object Object] (object)'],
    ['y'.repeat(100), `"${'y'.repeat(59)}…" (string)`],
  ])('describeValue(%s) = %s', (value, expected) => {
    expect(describeValue(value)).toBe(expected);
  });
});
