/** Parse once at the edge: user config in, frozen `ResolvedConfig` out. Downstream never re-checks. */
import { ConfigError } from '../errors.js';
import { formatIssues } from './format-issues.js';
import {
  configSchema,
  LEGACY_POOL_KEYS,
  poolSchema,
  type DeepReadonly,
  type ParsedConfig,
  type ParsedPoolConfig,
  type ResolvedConfig,
  type ResolvedConfigShape,
  type ResolvedPoolShape,
  type TopLevelConfig,
} from './schema.js';

const LEGACY_KEYS: ReadonlySet<string> = new Set(LEGACY_POOL_KEYS);

/**
 * Validates `input` against the config schema, fills every default, turns the legacy single-pool
 * form into `pools: [{ name: 'default', ... }]`, copies top-level queue/heartbeat/log options into
 * each pool that does not set them, and freezes the result.
 * @param source where the config came from (a file path), shown in the error.
 * @throws {ConfigError} code `invalid_config`, with every problem in `issues`.
 * @example
 * const config = resolveConfig({ poolSize: 2, adapter: 'my_adapter.MyAdapter' });
 * config.pools[0].name; // 'default'
 */
export function resolveConfig(input: unknown, source?: string): ResolvedConfig {
  const result = configSchema.safeParse(input, { reportInput: true });
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, configSchema, input), source);
  return deepFreeze(normalise(result.data));
}

function normalise(data: ParsedConfig): ResolvedConfigShape {
  const top: Record<string, unknown> = {};
  const legacy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (key === 'pools' || value === undefined) continue;
    (LEGACY_KEYS.has(key) ? legacy : top)[key] = value;
  }
  const topLevel = top as TopLevelConfig;
  // Legacy form: the pool's defaults come from the pool schema itself, so they live in one place.
  const pools: ParsedPoolConfig[] = data.pools ?? [{ ...poolSchema.parse({}), ...(legacy as Partial<ParsedPoolConfig>) }];
  return { ...topLevel, pools: pools.map((pool) => inherit(pool, topLevel)) };
}

/** A pool's own value where set, else the top level's. Heartbeat and the crash barrier merge field by field. */
function inherit(pool: ParsedPoolConfig, top: TopLevelConfig): ResolvedPoolShape {
  const { heartbeat, crashBarrier, pythonExecutable, ...own } = pool;
  const { retryBackoff, ...barrier } = crashBarrier ?? {};
  const python = pythonExecutable ?? top.pythonExecutable;
  return {
    ...own,
    poolQueueTimeoutMs: own.poolQueueTimeoutMs ?? top.poolQueueTimeoutMs,
    poolMaxQueueSize: own.poolMaxQueueSize ?? top.poolMaxQueueSize,
    poolStartupTimeoutMs: own.poolStartupTimeoutMs ?? top.poolStartupTimeoutMs,
    capacityStrategy: own.capacityStrategy ?? top.capacityStrategy,
    logLevel: own.logLevel ?? top.logLevel,
    validateArgs: own.validateArgs ?? top.validateArgs,
    ...(python === undefined ? {} : { pythonExecutable: python }),
    heartbeat: { ...top.heartbeat, ...definedOnly(heartbeat ?? {}) },
    crashBarrier: {
      ...top.crashBarrier,
      ...definedOnly(barrier),
      retryBackoff: { ...top.crashBarrier.retryBackoff, ...definedOnly(retryBackoff ?? {}) },
    },
  };
}

function definedOnly<T extends object>(obj: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}
