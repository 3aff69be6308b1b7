// The getting-started path, as a new user takes it: a clean checkout packs without a manual build (`prepare`),
// the tarball installs into a fresh project, then `snakepit setup`, `gen adapter` and a script through `snakepit run`.
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findUv } from '../../src/python/packages.js';

const ROOT = path.resolve('.');
const base = mkdtempSync(path.join(os.tmpdir(), 'snakepit-pack-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

// npm's own variables (set when the suite runs under `npm test`) would point the inner npm at this repository.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
const run = (file: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}) =>
  execa(file, args, { cwd, env: { ...env, ...extraEnv }, extendEnv: false, reject: false, timeout: 240_000 });

/** The working tree as a fresh checkout has it: tracked and new files, nothing ignored (no dist/, node_modules/, .venv/). */
function checkout(dest: string): void {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    mkdirSync(path.dirname(path.join(dest, file)), { recursive: true });
    try {
      cpSync(path.join(ROOT, file), path.join(dest, file));
    } catch {
      // listed but deleted in the working tree
    }
  }
  // Its `npm ci` would install exactly these: linked instead of downloaded again.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dest, 'node_modules'));
}

describe('installing the package as a new user does', () => {
  it('packs a clean checkout, installs the tarball in a new project, sets up Python, generates an adapter and runs a script', { timeout: 480_000 }, async (ctx) => {
    const timings: string[] = [];
    const timed = async <T>(label: string, step: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      const result = await step();
      timings.push(`${label} ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return result;
    };

    // 1. A checkout without dist/: `npm pack` builds it through `prepare` (as `npm install <git url>` does).
    const clone = path.join(base, 'clone');
    checkout(clone);
    expect(readdirSync(clone)).not.toContain('dist');
    const pack = await timed('pack', () => run('npm', ['pack', '--pack-destination', base, '--json'], clone));
    expect(pack.exitCode, pack.stderr).toBe(0);
    const [{ filename }] = JSON.parse(pack.stdout) as [{ filename: string }];
    const tarball = path.join(base, filename);

    // 2. The getting-started guide: npm init (a CommonJS package: npm 11 writes "type": "commonjs"), install, setup.
    const app = path.join(base, 'myapp');
    mkdirSync(app);
    expect((await run('npm', ['init', '-y'], app)).exitCode).toBe(0);
    const install = await timed('npm install', () => run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], app));
    expect(install.exitCode, install.stderr).toBe(0);
    // uv installs the Python wheels from its cache (pip would download them again): as test/commands/setup.test.ts.
    const uv = await findUv({ python: path.join(ROOT, '.venv/bin/python') });
    const setup = await timed('snakepit setup', () => run('npx', ['snakepit', 'setup'], app, uv ? { SNAKEPIT_UV: uv } : {}));
    expect(setup.exitCode, setup.stderr + setup.stdout).toBe(0);
    expect(setup.stdout).toContain('Python environment ready');

    // 3. Your own adapter: generate it, paste the pool it prints, call it from a script.
    const gen = await timed('gen adapter', () => run('npx', ['snakepit', 'gen', 'adapter', 'my_adapter', '--json'], app));
    expect(gen.exitCode, gen.stderr).toBe(0);
    const { configSnippet } = JSON.parse(gen.stdout) as { configSnippet: string };
    writeFileSync(path.join(app, 'snakepit.config.ts'), configSnippet);
    writeFileSync(
      path.join(app, 'main.ts'),
      [
        "import { execute, stream } from 'snakepit';",
        "console.log('greet', JSON.stringify(await execute('greet', { name: 'npm' })));",
        "for await (const chunk of stream('count', { steps: 2 })) console.log('chunk', JSON.stringify(chunk));",
        '',
      ].join('\n'),
    );
    const script = await timed('snakepit run', () => run('npx', ['snakepit', 'run', 'main.ts'], app));
    expect(script.stderr).toBe('');
    expect(script.exitCode).toBe(0);
    expect(script.stdout).toMatch(/^greet \{"message":"Hello, npm!"\}$/m);
    expect(script.stdout.split('\n').filter((line) => line.startsWith('chunk '))).toHaveLength(2);
    await ctx.annotate(timings.join(', '));
  });
});
