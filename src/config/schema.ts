/**
 * The one schema of Snakepit's configuration: every option, its default and its documentation.
 * Names are the original's options, camelCased, with units in the name (`...Ms`).
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { expecting } from './format-issues.js';
import { discoveryShape } from './discovery-schema.js';
import { heartbeatOverrideSchema, heartbeatSchema } from './heartbeat-schema.js';
import { checkPoolLayout, isRecord } from './pool-layout-check.js';
import { securityShape } from './security-schema.js';
import { crashBarrierOverrideSchema, crashBarrierSchema } from './crash-barrier-schema.js';
import { envRecord, infinityOrPosInt, logLevel, loosen, nonEmptyString, nonNegInt, oneOf, posInt, pythonClassPath, stringArray, toolTimeouts, workerTtl } from './schema-fields.js';

// The heartbeat option has its own module; its schema is still exported from here.
export { heartbeatSchema } from './heartbeat-schema.js';

// ---- options each pool sets for itself ----

const poolOwnShape = {
  /** Unique pool name, used in `execute(..., { pool })`. @default 'default' */
  name: expecting(z.string().regex(/^[A-Za-z0-9][\w.-]*$/), "a pool name of letters, digits, '_', '-' or '.'")
    .default('default')
    .describe('Unique pool name.'),
  /**
   * `'process'`: one request at a time per Python process. `'thread'`: `threadsPerWorker`
   * concurrent requests per process (for thread-safe adapters, ideally free-threaded Python).
   * @default 'process'
   */
  workerProfile: oneOf(['process', 'thread']).default('process').describe('Worker execution model.'),
  /**
   * How worker processes start. `'spawn'`: a fresh interpreter each, which imports the bridge and
   * the adapter. `'fork'` (Linux): one template process per pool imports them and runs the adapter
   * class's `preload()` once, then every worker (at start, after a crash, when recycled) is forked
   * from it and shares what it loaded copy-on-write; where forking is unsafe (threads or CUDA in the
   * template, not Linux) the pool logs why and spawns. @default 'spawn'
   */
  startMode: oneOf(['spawn', 'fork']).default('spawn').describe("How workers start: 'spawn' (a fresh interpreter each) or 'fork' (from a template that preloaded the adapter)."),
  /**
   * Linux scheduling policy of the worker processes. `'inherit'`: the host's, as for any child.
   * `'batch'`: `SCHED_BATCH`, the kernel's policy for non-interactive work: a worker woken by a call
   * does not preempt the task running on that CPU (most often the host, with more calls to write);
   * its CPU share (nice value) is unchanged. Measured: ~5% more throughput of tiny calls, but 8 MiB
   * payloads ~15% slower (guides/worker-profiles.md). A policy set on the host itself (`chrt`) is
   * always inherited. Ignored off Linux. @default 'inherit'
   */
  schedulingPolicy: oneOf(['batch', 'inherit'])
    .default('inherit')
    .describe("Linux scheduling policy of the workers: 'inherit' (the host's) or 'batch' (SCHED_BATCH: their wake-ups do not preempt the host)."),
  /** Number of worker processes. @default os.availableParallelism() * 2 */
  poolSize: posInt()
    .default(() => availableParallelism() * 2)
    .describe('Number of worker processes; defaults to 2 x the available CPU parallelism.'),
  /** Python adapter class, as `package.module.ClassName`. @default 'snakepit_bridge.adapters.showcase.ShowcaseAdapter' */
  adapter: pythonClassPath().default('snakepit_bridge.adapters.showcase.ShowcaseAdapter').describe('Python adapter class path.'),
  /** Extra command-line arguments for the Python worker. @default [] */
  adapterArgs: stringArray().default(() => []).describe('Extra command-line arguments for the Python worker.'),
  /** Extra environment variables for the Python worker (e.g. `OMP_NUM_THREADS`). @default {} */
  adapterEnv: envRecord().default(() => ({})).describe('Extra environment variables for the Python worker.'),
  /** Extra `PYTHONPATH` entries, searched before the bridge's own. @default [] */
  pythonPath: stringArray().default(() => []).describe('Extra PYTHONPATH entries.'),
  /** Thread pool size per worker when `workerProfile` is `'thread'`; capacity = poolSize * threadsPerWorker. @default 10 */
  threadsPerWorker: posInt().default(10).describe("Threads per worker for the 'thread' profile."),
  /**
   * Thread limits of the numeric libraries in each worker (the original's `python_thread_limits`):
   * `openblas`, `omp`, `mkl`, `numexpr` and `veclib` (macOS Accelerate), each the value of its
   * `*_NUM_THREADS` variable. Unset fields: 1 for the process profile (the original's defaults map),
   * `threadsPerWorker` for the thread profile; `adapterEnv` still wins. @default {}
   */
  threadLimits: expecting(
    z.strictObject({ openblas: posInt().optional(), omp: posInt().optional(), mkl: posInt().optional(), numexpr: posInt().optional(), veclib: posInt().optional() }),
    'an object of integers >= 1 for openblas, omp, mkl, numexpr, veclib',
  )
    .default(() => ({}))
    .describe('Thread limits of the numeric libraries (openblas, omp, mkl, numexpr, veclib).'),
  /** Runtime thread-safety checks in the Python worker (for development). @default false */
  threadSafetyChecks: z.boolean().default(false).describe('Runtime thread-safety checks in Python.'),
  /**
   * Thread profile: refuse (`adapter_not_thread_safe`) an adapter class that does not declare
   * `__thread_safe__ = True`, as the original did. `false` accepts the risk: such an adapter
   * starts with a warning. @default true
   */
  requireThreadSafeAdapter: z
    .boolean()
    .default(true)
    .describe("Thread profile: refuse an adapter that does not declare __thread_safe__ = True (false: warn and run it)."),
  /** Workers started per batch while the pool starts. @default 8 */
  startupBatchSize: posInt().default(8).describe('Workers started per batch at pool start.'),
  /** Pause between start-up batches, in ms; spreads the load of many imports. @default 750 */
  startupBatchDelayMs: nonNegInt().default(750).describe('Pause between start-up batches, in ms.'),
  /** Recycle a worker after this lifetime. @default 'infinity' */
  workerTtl: workerTtl().default('infinity').describe("Worker lifetime before recycling, or 'infinity'."),
  /** Recycle a worker after this many requests. @default 'infinity' */
  workerMaxRequests: infinityOrPosInt().default('infinity').describe("Requests before a worker is recycled, or 'infinity'."),
  /** Recycle a worker whose memory exceeds this many MiB (spawned: its RSS; forked: its private memory); unset = no limit. */
  memoryThresholdMb: posInt().optional().describe('Memory (MiB) above which a worker is recycled: its RSS, or a forked worker\'s private memory.'),
  /** How often TTL and memory are checked, in ms. @default 5000 */
  lifecycleCheckIntervalMs: posInt().default(5_000).describe('Time between worker TTL and memory checks, in ms.'),
  /**
   * Session affinity. `'prefer'`: use the session's worker when free, else any worker.
   * `'strict_queue'`: wait for the session's worker. `'strict_fail_fast'`: fail if it is busy.
   * @default 'prefer'
   */
  affinity: oneOf(['prefer', 'strict_queue', 'strict_fail_fast']).default('prefer').describe('Session affinity mode.'),
  /** On stop, time between SIGTERM and SIGKILL, in ms. @default 6000 */
  gracefulShutdownTimeoutMs: nonNegInt().default(6_000).describe('Time between SIGTERM and SIGKILL on stop, in ms.'),
  /** Timeout of `execute` calls that set no `timeoutMs`, in ms. @default 60000 */
  defaultTimeoutMs: posInt().default(60_000).describe('Timeout of calls that set none, in ms.'),
  /** Timeout of streaming calls that set no `timeoutMs`, in ms. @default 300000 */
  defaultStreamTimeoutMs: posInt().default(300_000).describe('Timeout of streaming calls that set none, in ms.'),
  /**
   * Timeouts of one tool's calls, in ms (or `'infinity'`), over `defaultTimeoutMs` and
   * `defaultStreamTimeoutMs`; a call's own `timeoutMs` wins (the original's `command_timeout`). @default {}
   * @example { train: 600_000, health: 2_000 }
   */
  toolTimeouts: toolTimeouts().default(() => ({})).describe("Timeouts per tool, in ms or 'infinity', over the defaults; a call's own timeoutMs wins."),
  /**
   * Chunks of one `stream()` that may wait on the host for its consumer; when that many wait,
   * Python's generator is paused before its next item until the consumer took half of them.
   * @default 64
   */
  streamHighWaterMark: posInt()
    .default(64)
    .describe('Chunks of a stream buffered on the host before Python waits for the consumer.'),
  /** How long a cancelled or timed-out call may keep running before its worker is killed, in ms. @default 2000 */
  cancelGraceMs: nonNegInt()
    .default(2_000)
    .describe('Time a cancelled call may take to stop before the worker is killed, in ms.'),
  /**
   * Most calls a worker may hold waiting behind those it runs, when every worker is busy and calls
   * wait. A waiting call keeps every guarantee of the host queue (timeout, abort, queue timeout)
   * and is taken back when another worker frees first or when the call ahead of it runs long, so
   * pipelining is safe; `'auto'` is 8. `0` keeps every waiting call in the host queue.
   * @default 'auto'
   */
  pipelineDepth: expecting(z.union([z.literal('auto'), z.number().int().min(0)]), "'auto' or an integer >= 0")
    .default('auto')
    .describe("Most calls waiting inside each worker beyond those it runs ('auto' = 8, 0 = none)."),
  /**
   * A worker whose running call has run this long takes no more calls to hold waiting, and those
   * waiting behind it are taken back for the workers that free first: a short call never waits for
   * a long one. Short enough to spare short calls, long enough that jitter (a GC pause) rarely
   * trips it. @default 5
   */
  pipelineStallMs: posInt()
    .default(5)
    .describe('Run time after which calls waiting behind a running call are taken back, in ms.'),
  /**
   * Python workers started by something else (another box, a container), reached over gRPC:
   * `unix:/path.sock` or `host:port`. The host connects and health-checks them and never spawns or
   * kills them; the pool has one slot per entry (`poolSize` is ignored). Needs `transport: 'grpc'`.
   */
  workers: expecting(
    z.array(z.strictObject({ address: nonEmptyString(), token: z.string().optional() })).min(1),
    "a non-empty array of { address: 'unix:/path.sock' | 'host:port', token?: string }",
  )
    .optional()
    .describe('Attached workers (gRPC addresses) instead of spawned ones.'),
  ...discoveryShape,
  ...securityShape,
  /** How the host talks to workers: `'pipe'` (fast, local) or `'grpc'` (the original's). @default 'pipe' */
  transport: oneOf(['pipe', 'grpc']).default('pipe').describe('Host-worker transport.'),
};

// ---- options set at the top level that a pool may override ----

const sharedShape = {
  /** Longest time a request waits in the queue, in ms. @default 5000 */
  poolQueueTimeoutMs: posInt().default(5_000).describe('Longest time a request waits in the queue, in ms.'),
  /** Queued requests beyond which new ones are rejected (`pool_saturated`). @default 1000 */
  poolMaxQueueSize: posInt().default(1_000).describe('Queued requests beyond which new ones are rejected.'),
  /** Longest time a worker may take to start, in ms. @default 10000 */
  poolStartupTimeoutMs: posInt().default(10_000).describe('Longest time a worker may take to start, in ms.'),
  /** How capacity is shared: per pool, per profile across pools, or both. @default 'pool' */
  capacityStrategy: oneOf(['pool', 'profile', 'hybrid']).default('pool').describe('How worker capacity is managed.'),
  /** Log level of the host and (as `SNAKEPIT_LOG_LEVEL`) of the Python workers; quiet by default, as the original. @default 'error' */
  logLevel: logLevel().default('error').describe("Log level; 'warning' is accepted for 'warn'."),
  /** Check call arguments on the host against the tools' parameter types before dispatch (`invalid_args`). @default false */
  validateArgs: z.boolean().default(false).describe('Check arguments against the tool specs on the host before dispatch.'),
  /** Python interpreter. `SNAKEPIT_PYTHON` overrides it (as in the original); unset: the project's `.venv`, then the one `snakepit setup` made, then `python3`. */
  pythonExecutable: nonEmptyString().optional().describe('Python interpreter path.'),
};

// ---- options that exist once per Snakepit instance ----

const globalShape = {
  /** Idle time after which a session expires (its state, tools and worker binding go), in ms. @default 3600000 */
  sessionTtlMs: posInt().default(3_600_000).describe('Idle time after which a session expires, in ms.'),
  /** How often expired sessions are swept, in ms. @default 60000 */
  sessionCleanupIntervalMs: posInt().default(60_000).describe('Time between sweeps of expired sessions, in ms.'),
  /**
   * Time between two `snakepit.pool.status` snapshots of each pool (queue depth, available workers),
   * in ms; emitted only while anyone listens to that event. @default 5000
   */
  poolStatusIntervalMs: posInt().default(5_000).describe('Time between snakepit.pool.status snapshots, in ms.'),
  /** Timeout of a host tool called from Python that sets none, in ms. @default 30000 */
  hostToolTimeoutMs: posInt().default(30_000).describe('Timeout of host tools called from Python, in ms.'),
  /**
   * Log levels per category over `logLevel` (`{ python: 'debug', heartbeat: 'none' }`), or the
   * original's list (`['lifecycle', 'grpc']`: only those categories log below `warn`).
   * `Snakepit.start`'s `logCategories` option and `snakepit run --log-categories` go over it. @default {}
   */
  logCategories: expecting(
    z.union([z.record(nonEmptyString(), logLevel()), z.array(nonEmptyString())]),
    "an object of category levels ({ python: 'debug' }) or an array of category names",
  )
    .default(() => ({}))
    .describe('Log levels per category, or a list of the categories that log below warn.'),
  /** The project's own Python environment: what `snakepit setup` installs and `snakepit doctor` checks. */
  python: z
    .strictObject({
      /**
       * Your requirements files (paths from the working directory), installed by a bare `snakepit setup`
       * together with the bridge's and checked by `snakepit doctor`. @default []
       */
      requirements: stringArray().default(() => []).describe("The project's requirements files, for snakepit setup and doctor."),
    })
    .prefault({})
    .describe("The project's Python requirements."),
  /** Heartbeat defaults for every pool; a pool's `heartbeat` overrides single fields. */
  heartbeat: heartbeatSchema.prefault({}).describe('Heartbeat defaults for every pool.'),
  /** Address the host's gRPC server (calls from Python, `grpc` transport) binds. @default '127.0.0.1' */
  grpcHost: nonEmptyString().default('127.0.0.1').describe("Address of the host's gRPC server."),
  /**
   * Port of the host's gRPC server (calls from Python); 0 lets the OS pick. Unset: the server
   * listens on a Unix socket (mode 0600) in the run directory instead of TCP.
   */
  grpcPort: expecting(z.number().int().min(0).max(65_535), 'an integer from 0 to 65535')
    .optional()
    .describe("TCP port of the host's gRPC server; unset = a Unix socket."),
  /**
   * Publish a control endpoint (`snakepit status`, `/status`, `/metrics`): a Unix socket (0600) in
   * the per-user run folder. @default true
   */
  controlEndpoint: z.boolean().default(true).describe('Publish the control endpoint (snakepit status, /metrics).'),
  /**
   * Also serve the control endpoint on this TCP port of 127.0.0.1 (0 lets the OS pick), guarded by a
   * per-run bearer token. Unset: socket only.
   */
  controlPort: expecting(z.number().int().min(0).max(65_535), 'an integer from 0 to 65535')
    .optional()
    .describe('TCP port of the control endpoint (token required); unset = socket only.'),
  /** Where `snakepit gen types` writes the tool declarations; watch mode regenerates it. Unset: `snakepit-tools.d.ts`, not regenerated. */
  typesOut: nonEmptyString().optional().describe('Declaration file of the generated tool types (watch mode regenerates it).'),
  /** Send large binaries through shared memory instead of the transport. */
  zeroCopy: z
    .strictObject({
      /** @default false */
      enabled: z.boolean().default(false).describe('Use shared memory for large binaries.'),
      /** Binaries at least this large go through shared memory. @default 1048576 */
      thresholdBytes: posInt().default(1_048_576).describe('Size from which shared memory is used, in bytes.'),
    })
    .prefault({})
    .describe('Zero-copy transfer of large binaries.'),
  /**
   * Largest payload of one call or result (encoded frame plus shared memory), in bytes; a larger one
   * fails with `payload_too_large` on the side that would send it, before anything is sent. @default 268435456
   */
  maxPayloadBytes: posInt().default(268_435_456).describe('Largest call/result payload in bytes.'),
  /**
   * What Python does with a result value that has no mapping: `graceful` sends a marker
   * `{__snakepit_unserializable__: true, type, repr}`, `repr` its repr text, `strict` fails the call
   * with `unserializable`. @default 'graceful'
   */
  serialization: z.enum(['graceful', 'repr', 'strict']).default('graceful').describe('Policy for values Python cannot serialise.'),
  crashBarrier: crashBarrierSchema,
  /** At start, stop Python workers left behind by dead Snakepit hosts (found by their run id). */
  rogueCleanup: z
    .strictObject({
      /** @default true */
      enabled: z.boolean().default(true).describe('Reap workers of dead runs at start.'),
    })
    .prefault({})
    .describe('Reaping of orphaned workers from earlier runs.'),
  /** Fail fast after repeated failures instead of queueing more doomed calls. */
  circuitBreaker: z
    .strictObject({
      /** @default false */
      enabled: z.boolean().default(false).describe('Open the circuit after repeated failures.'),
      /** Consecutive failures that open the circuit. @default 5 */
      failureThreshold: posInt().default(5).describe('Consecutive failures that open the circuit.'),
      /** Time the circuit stays open before probing, in ms. @default 30000 */
      resetTimeoutMs: posInt().default(30_000).describe('Time the circuit stays open, in ms.'),
      /** Probe calls allowed while half-open. @default 1 */
      halfOpenMaxCalls: posInt().default(1).describe('Probe calls allowed while half-open.'),
    })
    .prefault({})
    .describe('Circuit breaker for pool calls.'),
};

// ---- assembling: pools, and the top level (which also takes the legacy single-pool form) ----

/** One pool. Unset shared options and heartbeat fields inherit the top level. */
export const poolSchema = z.strictObject({
  ...poolOwnShape,
  ...loosen(sharedShape),
  /** Heartbeat overrides for this pool; unset fields inherit the top-level `heartbeat`. */
  heartbeat: heartbeatOverrideSchema.optional().describe('Heartbeat overrides for this pool.'),
  /** Crash barrier overrides for this pool; unset fields (and `retryBackoff` fields) inherit the top-level `crashBarrier`. */
  crashBarrier: crashBarrierOverrideSchema,
});

const { name: _name, ...legacyPoolShape } = poolOwnShape;

/** Pool options that may sit at the top level in the legacy single-pool form. */
export const LEGACY_POOL_KEYS = Object.keys(legacyPoolShape) as readonly (keyof typeof legacyPoolShape)[];

/** The whole configuration, in the multi-pool or the legacy single-pool form. */
export const configSchema = z
  .strictObject({
    /** The pools to start. Unset: one pool named 'default' from the top-level pool options. */
    pools: expecting(z.array(poolSchema).min(1), 'a non-empty array of pool objects')
      .optional()
      .describe("The pools to start; unset means one pool 'default' from top-level options."),
    ...sharedShape,
    ...globalShape,
    ...loosen(legacyPoolShape),
  })
  // `when`: also run when some field failed, so one run reports every problem.
  .superRefine((value, ctx) => checkPoolLayout(value, ctx, LEGACY_POOL_KEYS), { when: (payload) => isRecord(payload.value) });

// ---- types ----

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Makes every level read-only, as `resolveConfig` freezes every level. */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/**
 * What a config file or `Snakepit.start(config)` accepts: every field optional. Read-only so that
 * `as const` objects and an already resolved config are accepted too.
 */
export type SnakepitConfigInput = DeepReadonly<z.input<typeof configSchema>>;
/** One entry of `pools`, as written. */
export type PoolConfigInput = DeepReadonly<z.input<typeof poolSchema>>;
/** Resolved heartbeat settings of a pool. */
export type HeartbeatConfig = DeepReadonly<z.output<typeof heartbeatSchema>>;
/** The `workerTtl` option. */
export type WorkerTtl = DeepReadonly<z.output<typeof poolSchema>['workerTtl']>;

type Parsed = z.output<typeof configSchema>;
type SharedKey = keyof typeof sharedShape;
type TopLevel = Omit<Parsed, 'pools' | (typeof LEGACY_POOL_KEYS)[number]>;
type ParsedPool = z.output<typeof poolSchema>;

/** @internal The shapes `resolveConfig` builds before freezing them. */
export type ResolvedPoolShape = Simplify<Omit<ParsedPool, SharedKey | 'heartbeat' | 'crashBarrier'> & Pick<Parsed, SharedKey | 'heartbeat' | 'crashBarrier'>>;
/** @internal */
export type ResolvedConfigShape = Simplify<TopLevel & { pools: ResolvedPoolShape[] }>;
/** @internal */
export type ParsedConfig = Parsed;
/** @internal */
export type ParsedPoolConfig = ParsedPool;
/** @internal */
export type TopLevelConfig = TopLevel;

/** One pool with every default filled in and top-level options inherited; frozen. */
export type ResolvedPoolConfig = DeepReadonly<ResolvedPoolShape>;
/** The whole configuration after `resolveConfig`: always in multi-pool form, frozen. */
export type ResolvedConfig = DeepReadonly<ResolvedConfigShape>;

/**
 * Types the default export of `snakepit.config.ts`; returns its argument unchanged.
 * @example
 * export default defineConfig({ pools: [{ name: 'default', poolSize: 4, adapter: 'my_adapter.MyAdapter' }] });
 */
export function defineConfig(config: SnakepitConfigInput): SnakepitConfigInput {
  return config;
}

// ---- defaults, for code outside the config (the classes the original also exposes on their own) ----

/** What the schema fills in for an empty config: the one home of these defaults. */
const topDefaults = configSchema.parse({});
const poolDefaults = poolSchema.parse({});

/** The crash barrier's defaults (config `crashBarrier`). */
export const CRASH_BARRIER_CONFIG_DEFAULTS = topDefaults.crashBarrier;
/** The circuit breaker's defaults (config `circuitBreaker`). */
export const CIRCUIT_BREAKER_CONFIG_DEFAULTS = topDefaults.circuitBreaker;
/** Grace for a cancelled call before its worker is killed (config `cancelGraceMs`). */
export const CANCEL_GRACE_MS_DEFAULT = poolDefaults.cancelGraceMs;
