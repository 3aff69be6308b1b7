/** Configuration: the schema, `defineConfig`, `resolveConfig` and `loadConfig`. */
export {
  configSchema,
  defineConfig,
  heartbeatSchema,
  poolSchema,
  type DeepReadonly,
  type HeartbeatConfig,
  type PoolConfigInput,
  type ResolvedConfig,
  type ResolvedPoolConfig,
  type SnakepitConfigInput,
  type WorkerTtl,
} from './schema.js';
export { resolveConfig } from './resolve.js';
export {
  CONFIG_FILE_NAMES,
  findConfigFile,
  loadConfig,
  readConfigFile,
  type LoadConfigOptions,
  type LoadedConfig,
} from './load.js';
export { describeValue, formatIssues, formatPath } from './format-issues.js';
