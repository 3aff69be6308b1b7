/** `snakepit gen types` as steps: plan (config, pools, file), extract each pool's specs, then write or check the file. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, type ResolvedConfig, type ResolvedPoolConfig } from '../config/index.js';
import { ValidationError } from '../errors.js';
import { TYPE_SPEC_VERSION, type AdapterTypeSpec } from '../typed/type-spec.js';
import type { SerializationPolicy } from '../typed/wire-type.js';
import { extractPoolTypes } from './extract.js';
import { lineDiff } from './line-diff.js';
import { renderTypesFile } from './render-file.js';

/** Where the declarations go when neither `--out` nor the config's `typesOut` says. */
export const DEFAULT_TYPES_FILE = 'snakepit-tools.d.ts';

export interface GenTypesOptions {
  /** @default process.cwd() */
  cwd?: string;
  /** Config file; unset: `snakepit.config.*` in `cwd`. Ignored when `config` is given. */
  configFile?: string;
  /** An already resolved config (watch mode: the running instance's). */
  config?: ResolvedConfig;
  /** Pools that get types; the others stay untyped. @default every pool */
  pools?: readonly string[];
  /** Output file, relative to `cwd`. @default config `typesOut`, else `snakepit-tools.d.ts` */
  out?: string;
}

/** What `gen types` will do: the config, the pools to extract, the file. */
export interface TypesPlan {
  config: ResolvedConfig;
  /** Pools whose adapters are described, in config order. */
  selected: ResolvedPoolConfig[];
  /** Absolute path of the declaration file. */
  file: string;
  cwd: string;
}

/** The `--json` form: every pool's specs, the stable machine-readable contract. */
export interface TypeSpecsDocument {
  version: number;
  /** Where calls without `pool` go; null when no such pool exists. */
  defaultPool: string | null;
  serialization: SerializationPolicy;
  pools: { name: string; adapter: string; spec: AdapterTypeSpec | null }[];
}

export interface GenTypesResult {
  /** Absolute path of the declaration file. */
  file: string;
  /** `written`/`unchanged` after a write; `current`/`stale` after `--check` (nothing written). */
  status: 'written' | 'unchanged' | 'current' | 'stale';
  /** With `stale`: what would change, as a line diff. */
  diff?: string;
  pools: { name: string; adapter: string; tools: number | null }[];
}

/**
 * Loads the config and picks the pools and the file.
 * @throws {ValidationError} `unknown_pool` for a `pools` entry the config does not have.
 */
export async function planTypes(options: GenTypesOptions = {}): Promise<TypesPlan> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const config = options.config ?? (await loadConfig({ cwd, file: options.configFile })).config;
  const names = config.pools.map((p) => p.name);
  for (const name of options.pools ?? []) {
    if (!names.includes(name)) throw new ValidationError(`Unknown pool '${name}' (pools: ${names.join(', ')})`, 'unknown_pool', { pool: name, available: names });
  }
  const selected = options.pools?.length ? config.pools.filter((p) => options.pools!.includes(p.name)) : [...config.pools];
  const file = path.resolve(cwd, options.out ?? config.typesOut ?? DEFAULT_TYPES_FILE);
  return { config, selected, file, cwd };
}

/** The specs document of a plan once its pools are extracted (`specs` by pool name). */
export function specsDocument(plan: TypesPlan, specs: ReadonlyMap<string, AdapterTypeSpec>): TypeSpecsDocument {
  const pools = plan.config.pools;
  const defaultPool = pools.length === 1 ? pools[0]!.name : pools.some((p) => p.name === 'default') ? 'default' : null;
  return {
    version: TYPE_SPEC_VERSION,
    defaultPool,
    serialization: plan.config.serialization,
    pools: pools.map((p) => ({ name: p.name, adapter: p.adapter, spec: specs.get(p.name) ?? null })),
  };
}

/** Renders the file and writes it (only when it changed), or with `check` compares it and writes nothing. */
export async function writeTypes(plan: TypesPlan, specs: ReadonlyMap<string, AdapterTypeSpec>, { check = false } = {}): Promise<GenTypesResult> {
  const doc = specsDocument(plan, specs);
  const text = renderTypesFile({
    pools: doc.pools.map((p) => ({ name: p.name, adapter: p.adapter, spec: p.spec ?? undefined })),
    defaultPool: doc.defaultPool ?? undefined,
    serialization: doc.serialization,
  });
  const current = await readFile(plan.file, 'utf8').catch(() => undefined);
  const pools = doc.pools.map((p) => ({ name: p.name, adapter: p.adapter, tools: p.spec ? p.spec.tools.length : null }));
  const rel = path.relative(plan.cwd, plan.file) || plan.file;
  if (check) {
    if (current === text) return { file: plan.file, status: 'current', pools };
    return { file: plan.file, status: 'stale', diff: lineDiff(current ?? '', text, { before: `${rel} (on disk${current === undefined ? ': missing' : ''})`, after: `${rel} (generated now)` }), pools };
  }
  if (current === text) return { file: plan.file, status: 'unchanged', pools };
  await mkdir(path.dirname(plan.file), { recursive: true });
  await writeFile(plan.file, text);
  return { file: plan.file, status: 'written', pools };
}

/** The whole of `gen types` without progress output (watch mode, `gen adapter`): plan, extract in parallel, write. */
export async function generateTypes(options: GenTypesOptions & { check?: boolean; signal?: AbortSignal } = {}): Promise<GenTypesResult> {
  const plan = await planTypes(options);
  const specs = await extractAll(plan, options.signal);
  return writeTypes(plan, specs, { check: options.check ?? false });
}

/** Extracts every selected pool's specs (in parallel); the first failure rejects. */
export async function extractAll(plan: TypesPlan, signal?: AbortSignal): Promise<Map<string, AdapterTypeSpec>> {
  const entries = await Promise.all(plan.selected.map(async (pool) => [pool.name, await extractPoolTypes(pool, { cwd: plan.cwd, ...(signal ? { signal } : {}) })] as const));
  return new Map(entries);
}
