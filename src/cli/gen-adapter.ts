/** `snakepit gen adapter NAME`: renders `templates/adapter/` into the user's Python folder. */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, resolveConfig } from '../config/index.js';
import { ValidationError } from '../errors.js';
import { generateTypes, type GenTypesResult } from '../typegen/generate.js';
import { bridgePythonPath, packageRoot } from '../python/runtime.js';
import { resolveInterpreter } from '../python/venv.js';

/** Python's reserved words: a package cannot be named after one. */
const PYTHON_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);
/** Names that would shadow a package every adapter needs. */
const RESERVED_NAMES = new Set(['snakepit_bridge', 'tests', 'test', 'pytest', 'grpc', 'msgpack']);

export interface GenAdapterOptions {
  /** Package name: a Python identifier such as `my_adapter`. */
  name: string;
  /** Folder that receives the package, relative to `cwd`. @default 'python' */
  dir?: string;
  /** @default process.cwd() */
  cwd?: string;
  /** Overwrite files that exist. @default false */
  force?: boolean;
  /**
   * Also generate the TypeScript types of the project's pools plus this one (`snakepit gen types`),
   * into this file; `false` skips it. @default the config's `typesOut`, else `snakepit-tools.d.ts`
   */
  typesOut?: string | false;
}

export interface GenAdapterResult {
  name: string;
  className: string;
  /** What the pool's `adapter` option takes: `name.adapter.ClassName`. */
  module: string;
  /** The Python folder (absolute): the pool's `pythonPath` entry. */
  dir: string;
  files: { path: string; action: 'created' | 'overwritten' }[];
  /** The pool to paste into `snakepit.config.ts`. */
  configSnippet: string;
  /** How to run the generated tests. */
  testCommand: string;
  /** The generated types: the file written, or why there is none (the adapter files are written either way). */
  types?: { file: string; status: GenTypesResult['status'] } | { error: string };
}

/**
 * Checks `name` as a Python package name.
 * @throws {ValidationError} `invalid_argument` with a fix.
 */
export function validateAdapterName(name: string): void {
  const fail = (why: string) =>
    new ValidationError(`Invalid adapter name ${JSON.stringify(name)}: ${why}`, 'invalid_argument', {
      name,
      fix: 'Use a Python identifier in snake_case, e.g. my_adapter',
    });
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw fail('it must be a Python identifier (letters, digits, _; not starting with a digit)');
  if (PYTHON_KEYWORDS.has(name)) throw fail('it is a Python keyword');
  if (RESERVED_NAMES.has(name)) throw fail('it would shadow a package the adapter needs');
}

/** `my_adapter` -> `MyAdapter`, `vision` -> `VisionAdapter` (the original's naming). */
export function adapterClassName(name: string): string {
  const pascal = name
    .split('_')
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
  const base = pascal || 'My';
  return /adapter$/i.test(base) ? base.replace(/adapter$/i, 'Adapter') : `${base}Adapter`;
}

/**
 * Writes the adapter package, its tests, and returns the config snippet. Writes nothing when a
 * target file exists and `force` is not set.
 * @throws {ValidationError} `invalid_argument` (bad name), `file_exists` (`details.files`).
 */
export async function generateAdapter(options: GenAdapterOptions): Promise<GenAdapterResult> {
  validateAdapterName(options.name);
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const dirOption = options.dir ?? 'python';
  const dir = path.resolve(cwd, dirOption);
  const className = adapterClassName(options.name);
  const module = `${options.name}.adapter.${className}`;
  const python = resolveInterpreter({ cwd }).python;
  const relPackage = path.relative(cwd, path.join(dir, options.name)) || '.';
  const testCommand = `PYTHONPATH=${bridgePythonPath()} ${python} -m pytest ${relPackage}`;
  const relDir = path.relative(cwd, dir) || '.';
  const vars: Record<string, string> = {
    name: options.name,
    className,
    module,
    pythonPath: relDir.startsWith('..') ? dir : `./${relDir}`,
    testCommand,
  };
  const templates = path.join(packageRoot(), 'templates', 'adapter');
  const planned: { target: string; text: string }[] = [];
  for (const rel of await listTemplates(templates)) {
    if (rel === 'config-snippet.ts.tmpl') continue;
    const text = render(await readFile(path.join(templates, rel), 'utf8'), vars);
    planned.push({ target: path.join(dir, options.name, rel.replace(/\.tmpl$/, '')), text });
  }
  const existing = planned.filter((p) => existsSync(p.target)).map((p) => p.target);
  if (existing.length > 0 && !options.force) {
    throw new ValidationError(`Not overwriting ${existing.length} existing file(s): ${existing.join(', ')}`, 'file_exists', {
      files: existing,
      fix: 'Choose another name or --dir, or pass --force to overwrite them',
    });
  }
  const files: GenAdapterResult['files'] = [];
  for (const { target, text } of planned) {
    const action = existsSync(target) ? 'overwritten' : 'created';
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, text);
    files.push({ path: target, action });
  }
  const configSnippet = render(await readFile(path.join(templates, 'config-snippet.ts.tmpl'), 'utf8'), vars);
  const result: GenAdapterResult = { name: options.name, className, module, dir, files, configSnippet, testCommand };
  if (options.typesOut !== false) result.types = await typesWithPool(cwd, { name: options.name, adapter: module, pythonPath: [dir] }, options.typesOut);
  return result;
}

/**
 * The project's tool types with the new pool added as the snippet adds it (replacing a pool of the
 * same name), so calls to it are typed once the snippet is pasted. Without a config file: that pool alone.
 */
async function typesWithPool(cwd: string, pool: { name: string; adapter: string; pythonPath: string[] }, out: string | undefined): Promise<GenAdapterResult['types']> {
  try {
    const { config, source } = await loadConfig({ cwd });
    const pools = source === null ? [pool] : [...config.pools.filter((p) => p.name !== pool.name), pool];
    const merged = resolveConfig(source === null ? { pools } : { ...config, pools });
    const generated = await generateTypes({ cwd, config: merged, ...(out === undefined ? {} : { out }) });
    return { file: generated.file, status: generated.status };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

async function listTemplates(root: string, sub = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, sub), { withFileTypes: true })) {
    const rel = path.join(sub, entry.name);
    if (entry.isDirectory()) out.push(...(await listTemplates(root, rel)));
    else if (entry.name.endsWith('.tmpl')) out.push(rel);
  }
  return out.sort();
}

/** `{{key}}` replaced by `vars[key]`; an unknown key is a bug in a template, so it throws. */
function render(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`template variable {{${key}}} has no value`);
    return value;
  });
}
