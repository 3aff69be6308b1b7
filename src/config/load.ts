/** Finds and reads `snakepit.config.*`, then resolves it. */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, ValidationError } from '../errors.js';
import { loadAsEsm } from '../esm-entry-hooks.js';
import { describeValue } from './format-issues.js';
import { resolveConfig } from './resolve.js';
import type { ResolvedConfig } from './schema.js';

/** File names looked for in `cwd`, in this order; the first that exists wins. */
export const CONFIG_FILE_NAMES = [
  'snakepit.config.ts',
  'snakepit.config.mts',
  'snakepit.config.mjs',
  'snakepit.config.js',
  'snakepit.config.cjs',
  'snakepit.config.json',
] as const;

export interface LoadConfigOptions {
  /**
   * Directory searched for a config file, and base of a relative `file`.
   * @default process.cwd()
   */
  cwd?: string;
  /** Explicit config file; it must exist. Unset: search `cwd` for {@link CONFIG_FILE_NAMES}. */
  file?: string;
}

export interface LoadedConfig {
  config: ResolvedConfig;
  /** Absolute path of the file read, or `null` when none was found and defaults apply. */
  source: string | null;
}

/**
 * Loads the config: `file` if given, else the first of {@link CONFIG_FILE_NAMES} in `cwd`, else defaults.
 * @throws {ValidationError} code `config_not_found` when an explicit `file` does not exist.
 * @throws {ConfigError} code `invalid_config` when the file cannot be read or its config is invalid.
 * @example
 * const { config, source } = await loadConfig({ cwd: process.cwd() });
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  let source: string | null;
  if (options.file !== undefined) {
    source = path.resolve(cwd, options.file);
    if (!(await isFile(source))) {
      throw new ValidationError(`Config file not found: ${source}`, 'config_not_found', { file: source });
    }
  } else {
    source = await findConfigFile(cwd);
  }
  if (source === null) return { config: resolveConfig({}), source: null };
  return { config: resolveConfig(await readConfigFile(source), source), source };
}

/** Absolute path of the first {@link CONFIG_FILE_NAMES} entry present in `cwd`, or `null`. */
export async function findConfigFile(cwd: string = process.cwd()): Promise<string | null> {
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = path.resolve(cwd, name);
    if (await isFile(candidate)) return candidate;
  }
  return null;
}

/** The raw (unvalidated) config a file exports: its default export, or a named `config` export. */
export async function readConfigFile(file: string): Promise<unknown> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return parseJson(file, await readFile(file, 'utf8'));
  if (!['.ts', '.mts', '.cts', '.mjs', '.js', '.cjs'].includes(ext)) {
    throw new ConfigError([loadIssue(`a .ts, .mts, .cts, .mjs, .js, .cjs or .json file`, ext || file)], file);
  }
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(file, ext);
  } catch (error) {
    // A .ts config is loaded as a module whatever the package type; a .cts one is CommonJS by name.
    const expected = ext === '.cts'
      ? 'a module that loads without errors (a .cts config is CommonJS, which cannot load ESM-only packages such as snakepit: name it snakepit.config.ts)'
      : 'a module that loads without errors';
    throw new ConfigError([loadIssue(expected, errorText(error))], file, error);
  }
  const value = pickExport(mod);
  if (value === undefined) {
    const names = Object.keys(mod).join(', ') || 'none';
    throw new ConfigError([loadIssue('a default export or a named `config` export', `exports: ${names}`)], file);
  }
  return await value; // `export default (async () => ({ ... }))()` works too
}

async function importModule(file: string, ext: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  if (ext === '.ts' || ext === '.mts' || ext === '.cts') {
    // Loaded lazily: tsx installs loader hooks, which only TypeScript configs need.
    const { tsImport } = await import('tsx/esm/api');
    // `import { defineConfig } from 'snakepit'` in a CommonJS package (npm init's default): tsx
    // would compile it to CommonJS, which cannot load the ESM-only package; as a module it can.
    if (ext === '.ts') loadAsEsm(url);
    return (await tsImport(url, { parentURL: import.meta.url })) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

function pickExport(namespace: Record<string, unknown>): unknown {
  // ESM compiled to CommonJS (a .ts file outside a `"type": "module"` package, under tsx) arrives
  // with its exports nested under `default`, flagged `__esModule`.
  const nested = namespace.default as Record<string, unknown> | null | undefined;
  const mod = typeof nested === 'object' && nested?.__esModule === true ? nested : namespace;
  const { default: def, config } = mod;
  // CommonJS `exports.config = {...}` arrives as both a named `config` and `default: { config }`.
  const cjsWrapper = typeof def === 'object' && def !== null && (def as Record<string, unknown>).config === config;
  if (config !== undefined && (def === undefined || cjsWrapper)) return config;
  return def;
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError([loadIssue('valid JSON', errorText(error))], file, error);
  }
}

function loadIssue(expected: string, received: string) {
  return { path: '', expected, received, message: `Expected the config file to be ${expected}, got ${received}` };
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : describeValue(error);
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
