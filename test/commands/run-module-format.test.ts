// `snakepit run` loads an ESM-syntax script (import + top-level await) as a module wherever it stands: a
// "type": "commonjs" project (what `npm init -y` writes), a folder without package.json; says what to change otherwise.
import { execa } from 'execa';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = path.resolve('bin/run.js');
const ROOT = path.resolve('.');

// The quickstart's shape: an import of the package, a relative TypeScript import, top-level await.
const ESM_SCRIPT = `import { execute } from 'snakepit';
import { label } from './label';
const r = await execute<{ result: number }>('add', { a: 1, b: 2 });
console.log(label('sum'), r.result, typeof import.meta.url);
`;
// In JavaScript: the entry alone is switched to ESM (a .js module it imported would keep its package's type).
const ESM_JS_SCRIPT = `import { execute } from 'snakepit';
const r = await execute('add', { a: 1, b: 2 });
console.log('[sum]', r.result, typeof import.meta.url);
`;
const LABEL = `export const label = (name: string): string => \`[\${name}]\`;\n`;
const CJS_SCRIPT = `const { execute } = require('snakepit');\nexecute('add', { a: 1, b: 2 }).then(console.log);\n`;

let base: string;

/** A project folder with snakepit linked into node_modules, a one-worker config and `files`. */
async function project(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(base, name);
  await mkdir(path.join(dir, 'node_modules'), { recursive: true });
  await symlink(ROOT, path.join(dir, 'node_modules', 'snakepit'));
  await writeFile(path.join(dir, 'snakepit.config.json'), JSON.stringify({ poolSize: 1, logLevel: 'error' }));
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
  return dir;
}

const run = (cwd: string, script: string) => execa(process.execPath, [BIN, 'run', script], { cwd, reject: false, timeout: 60_000 });

beforeAll(async () => {
  // Under the OS temp folder: no package.json above it decides the scripts' module type.
  base = await mkdtemp(path.join(os.tmpdir(), 'snakepit-run-format-'));
});
afterAll(() => rm(base, { recursive: true, force: true }));

describe('snakepit run: the script is an ES module whatever the package type says', () => {
  it.each([
    ['a "type": "commonjs" project (npm init -y)', { 'package.json': JSON.stringify({ name: 'app', version: '1.0.0', type: 'commonjs' }) }, 'app.ts'],
    ['a folder without package.json', {}, 'app.ts'],
    ['a .js script in a "type": "commonjs" project', { 'package.json': JSON.stringify({ name: 'app', type: 'commonjs' }) }, 'app.js'],
  ])('%s', async (label, extra, script) => {
    const dir = await project(label.replace(/\W+/g, '-'), { ...extra, 'label.ts': LABEL, [script]: script.endsWith('.js') ? ESM_JS_SCRIPT : ESM_SCRIPT });
    const r = await run(dir, script);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('[sum] 3 string');
    expect(r.exitCode).toBe(0);
  });

  it('a CommonJS-syntax script fails with one line saying what to change', async () => {
    const dir = await project('cjs-syntax', { 'package.json': JSON.stringify({ name: 'app', type: 'commonjs' }), 'old.js': CJS_SCRIPT });
    const r = await run(dir, 'old.js');
    expect(r.exitCode).toBe(1);
    const hint = r.stderr.split('\n').filter((line) => line.startsWith('snakepit run loads old.js as an ES module'));
    expect(hint).toHaveLength(1);
    expect(hint[0]).toContain('`require`');
  });
});

describe('snakepit run: a script that does not exist', () => {
  it('says so in one line with the path tried, starting no worker', async () => {
    // An adapter that cannot import: had the pools started first, this would be the error.
    const dir = await project('missing', {});
    await writeFile(path.join(dir, 'snakepit.config.json'), JSON.stringify({ poolSize: 1, adapter: 'no_such_module.Adapter' }));
    const r = await run(dir, 'nope.ts');
    expect(r.exitCode).toBe(1);
    const lines = r.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines[0]).toContain(path.join(dir, 'nope.ts'));
    expect(lines.slice(1).join('\n')).toMatch(/^\s*›?\s*Code: script_not_found$/);
    expect(r.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
  });
});
