import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ValidationError } from '../../../src/errors.js';
import { CONFIG_FILE_NAMES, findConfigFile, loadConfig } from '../../../src/config/index.js';

const schemaUrl = pathToFileURL(fileURLToPath(new URL('../../../src/config/schema.ts', import.meta.url))).href;

let root: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'snakepit-config-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh folder holding `files` (name -> content). */
async function project(files: Record<string, string>): Promise<string> {
  const dir = path.join(root, `p${counter++}`);
  await mkdir(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  return dir;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('loading each kind of file', () => {
  it.each([
    ['snakepit.config.ts', `const size: number = 3;\nexport default { poolSize: size, adapter: 'a.B' };\n`],
    [
      'snakepit.config.ts',
      `import { defineConfig } from '${schemaUrl}';\nexport default defineConfig({ poolSize: 3, adapter: 'a.B' });\n`,
    ],
    ['snakepit.config.mts', `export const config = { poolSize: 3 as number, adapter: 'a.B' };\n`],
    ['snakepit.config.mjs', `export default { poolSize: 3, adapter: 'a.B' };\n`],
    ['snakepit.config.mjs', `export const config = { poolSize: 3, adapter: 'a.B' };\n`],
    ['snakepit.config.mjs', `export default Promise.resolve({ poolSize: 3, adapter: 'a.B' });\n`],
    ['snakepit.config.cjs', `module.exports = { poolSize: 3, adapter: 'a.B' };\n`],
    ['snakepit.config.cjs', `exports.config = { poolSize: 3, adapter: 'a.B' };\n`],
    ['snakepit.config.json', `{ "poolSize": 3, "adapter": "a.B" }`],
  ])('%s: %s', async (name, content) => {
    const dir = await project({ [name]: content });
    const { config, source } = await loadConfig({ cwd: dir });
    expect(source).toBe(path.join(dir, name));
    expect(config.pools[0]).toMatchObject({ name: 'default', poolSize: 3, adapter: 'a.B' });
  });

  it('loads an ESM .js file in a "type": "module" package', async () => {
    const dir = await project({
      'package.json': '{ "type": "module" }',
      'snakepit.config.js': `export default { pools: [{ name: 'js', poolSize: 2 }] };\n`,
    });
    const { config } = await loadConfig({ cwd: dir });
    expect(config.pools.map((p) => [p.name, p.poolSize])).toEqual([['js', 2]]);
  });
});

describe('finding the file', () => {
  it.each(CONFIG_FILE_NAMES.slice(0, -1).map((name, i) => [name, CONFIG_FILE_NAMES[i + 1]!]))(
    'prefers %s over %s',
    async (first, second) => {
      const content = (n: number) =>
        first.endsWith('.json') ? `{ "poolSize": ${n} }` : `module.exports = { poolSize: ${n} };`;
      const files: Record<string, string> = {
        [first]: first.endsWith('.cjs') || first.endsWith('.js') ? content(1) : `export default { poolSize: 1 };`,
        [second]: second.endsWith('.json')
          ? `{ "poolSize": 2 }`
          : second.endsWith('.cjs') || second.endsWith('.js')
            ? content(2)
            : `export default { poolSize: 2 };`,
      };
      const dir = await project(files);
      expect(await findConfigFile(dir)).toBe(path.join(dir, first));
      expect((await loadConfig({ cwd: dir })).config.pools[0]!.poolSize).toBe(1);
    },
  );

  it('uses the defaults when there is no file', async () => {
    const dir = await project({});
    const { config, source } = await loadConfig({ cwd: dir });
    expect(source).toBeNull();
    expect(config.pools.map((p) => p.name)).toEqual(['default']);
  });

  it('reads an explicit file relative to cwd, whatever its name', async () => {
    const dir = await project({ 'custom.json': '{ "poolSize": 5 }', 'snakepit.config.json': '{ "poolSize": 6 }' });
    const { config, source } = await loadConfig({ cwd: dir, file: 'custom.json' });
    expect(source).toBe(path.join(dir, 'custom.json'));
    expect(config.pools[0]!.poolSize).toBe(5);
  });

  it.each([['missing.json'], ['.']])('rejects an explicit file that does not exist (%s)', async (file) => {
    const dir = await project({});
    const error = await rejection(loadConfig({ cwd: dir, file }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'config_not_found', category: 'validation' });
  });
});

describe('bad files', () => {
  it.each([
    ['snakepit.config.json', '{ "poolSize": 3, }', '', 'valid JSON'],
    ['snakepit.config.json', '{ "poolSize": 0 }', 'poolSize', 'an integer >= 1'],
    ['snakepit.config.mjs', 'export default { pools: [{ poolSzie: 1 }] };', 'pools[0].poolSzie', 'a known option (did you mean `poolSize`?)'],
    ['snakepit.config.mjs', 'export const other = 1;', '', 'a default export or a named `config` export'],
    ['snakepit.config.mjs', 'throw new Error("boom");', '', 'a module that loads without errors'],
    ['snakepit.config.mts', 'export default { poolSize: };', '', 'a module that loads without errors'],
    ['snakepit.config.json', '[1]', '', 'an object'],
  ])('%s containing %j -> issue at %j', async (name, content, issuePath, expected) => {
    const dir = await project({ [name]: content });
    const error = await rejection(loadConfig({ cwd: dir }));
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.code).toBe('invalid_config');
    expect(configError.details).toMatchObject({ source: path.join(dir, name) });
    expect(configError.issues[0]).toMatchObject({ path: issuePath, expected });
  });

  it('keeps the original error as the cause', async () => {
    const dir = await project({ 'snakepit.config.mjs': 'throw new RangeError("boom");' });
    const error = (await rejection(loadConfig({ cwd: dir }))) as ConfigError;
    expect(error.cause).toBeInstanceOf(RangeError);
    expect(error.issues[0]!.received).toBe('RangeError: boom');
  });

  it('a .ts config in a CommonJS package that fails to load points at .mts / "type": "module"', async () => {
    // The walk of a new user: `npm init -y` (CommonJS) + a config importing the ESM-only package.
    const code = "import { defineConfig } from 'snakepit';\nexport default defineConfig({ pools: [{ name: 'default' }] });\n";
    const cjs = await project({ 'package.json': '{"name":"app"}', 'snakepit.config.ts': code });
    await mkdir(path.join(cjs, 'node_modules'));
    await symlink(path.resolve('.'), path.join(cjs, 'node_modules', 'snakepit'), 'dir');
    const error = (await rejection(loadConfig({ cwd: cjs }))) as ConfigError;
    expect(error.code).toBe('invalid_config');
    expect(error.issues[0]!.expected).toContain('snakepit.config.mts');

    // The same file as .mts loads.
    await rename(path.join(cjs, 'snakepit.config.ts'), path.join(cjs, 'snakepit.config.mts'));
    const { config } = await loadConfig({ cwd: cjs });
    expect(config.pools.map((p) => p.name)).toEqual(['default']);

    // A load error in an ESM package carries no such hint.
    const esm = await project({ 'package.json': '{"type":"module"}', 'snakepit.config.ts': 'export default { poolSize: };' });
    const plain = (await rejection(loadConfig({ cwd: esm }))) as ConfigError;
    expect(plain.issues[0]!.expected).toBe('a module that loads without errors');
  });

  it('rejects an unsupported extension', async () => {
    const dir = await project({ 'snakepit.yaml': 'poolSize: 3' });
    const error = await rejection(loadConfig({ cwd: dir, file: 'snakepit.yaml' }));
    expect(error).toMatchObject({ code: 'invalid_config', issues: [expect.objectContaining({ received: '.yaml' })] });
  });
});
