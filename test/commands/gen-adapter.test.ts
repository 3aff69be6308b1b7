// `snakepit gen adapter`: renders the templates; the generated adapter imports and passes its own pytest.
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GenAdapterResult } from '../../src/cli/gen-adapter.js';
import { cli, json } from '../helpers/cli.js';
import { typecheck } from '../helpers/typecheck.js';

const PYTHON = path.resolve('.venv/bin/python');
const BRIDGE = path.resolve('python');

describe('snakepit gen adapter', () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'sp-gen-')), 'py');
  const TYPES = path.join(dir, '..', 'snakepit-tools.d.ts');

  it('writes the package, its tests and prints the config snippet', async () => {
    const r = await cli(['gen', 'adapter', 'weather_tools', '--dir', dir, '--types-out', TYPES]);
    expect(r.exitCode).toBe(0);
    for (const rel of ['__init__.py', 'adapter.py', 'tests/__init__.py', 'tests/test_adapter.py']) {
      expect(existsSync(path.join(dir, 'weather_tools', rel))).toBe(true);
    }
    expect(r.stdout).toContain("adapter: 'weather_tools.adapter.WeatherToolsAdapter'");
    expect(readFileSync(path.join(dir, 'weather_tools', 'adapter.py'), 'utf8')).not.toContain('{{');
  });

  it('comes with its TypeScript types generated: the new pool with typed results and chunks', async () => {
    const types = readFileSync(TYPES, 'utf8');
    expect(types).toMatch(/^ {6}weather_tools: \{$/m);
    expect(types).toContain("defaultPool: 'weather_tools';"); // the repository has no snakepit.config.*: the pool alone
    expect(types).toContain('type Greeting = { message: string };');
    expect(types).toMatch(/count: \{\n\s+args: \{[^}]*steps\?: PyInt;[^}]*\};\n\s+result: Step\[\];\n\s+chunk: Step;\n\s+streaming: true;/);
    expect(types).toMatch(/summarize: \{\n\s+args: \{ values: readonly number\[\] \};\n\s+result: Summary;/);
    expect(typecheck([TYPES])).toEqual([]);
  });

  it('the generated adapter passes its own pytest and the worker health check', async () => {
    const r = await execa(PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', path.join(dir, 'weather_tools')], {
      env: { PYTHONPATH: BRIDGE },
      reject: false,
      timeout: 120_000,
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\b7 passed\b/);
    const health = await execa(PYTHON, ['-m', 'snakepit_bridge.server', '--health-check', '--adapter', 'weather_tools.adapter.WeatherToolsAdapter'], {
      env: { PYTHONPATH: [BRIDGE, dir].join(path.delimiter) },
      reject: false,
    });
    expect(health.exitCode, health.stdout).toBe(0);
  });

  it('never overwrites without --force', async () => {
    const adapter = path.join(dir, 'weather_tools', 'adapter.py');
    writeFileSync(adapter, '# my edits\n');
    const r = await cli(['gen', 'adapter', 'weather_tools', '--dir', dir, '--no-types']);
    expect(r.exitCode).toBe(1);
    expect(r.error).toMatchObject({ code: 'file_exists' });
    expect(readFileSync(adapter, 'utf8')).toBe('# my edits\n');

    const forced = await cli(['gen', 'adapter', 'weather_tools', '--dir', dir, '--force', '--json', '--no-types']);
    expect(forced.exitCode).toBe(0);
    expect(json<GenAdapterResult>(forced).files.map((f) => f.action)).toEqual(['overwritten', 'overwritten', 'overwritten', 'overwritten']);
    expect(readFileSync(adapter, 'utf8')).toContain('class WeatherToolsAdapter');
  });

  it('--json gives the module, files, snippet and test command', async () => {
    const r = await cli(['gen', 'adapter', 'vision', '--dir', dir, '--json', '--types-out', path.join(dir, 'vision.d.ts')]);
    expect(r.exitCode).toBe(0);
    const result = json<GenAdapterResult>(r);
    expect(result).toMatchObject({ name: 'vision', className: 'VisionAdapter', module: 'vision.adapter.VisionAdapter', dir });
    expect(result.files).toHaveLength(4);
    expect(result.files.every((f) => f.action === 'created')).toBe(true);
    expect(result.types).toEqual({ file: path.join(dir, 'vision.d.ts'), status: 'written' });
    expect(result.configSnippet).toContain('vision.adapter.VisionAdapter');
    expect(result.testCommand).toContain('pytest');
  });

  it.each(['9lives', 'my-adapter', 'import'])('rejects the name %j with invalid_argument and writes nothing', async (name) => {
    const r = await cli(['gen', 'adapter', name, '--dir', dir, '--json', '--no-types']);
    expect(r.exitCode).toBe(1);
    expect(json<{ error: { code: string } }>(r).error.code).toBe('invalid_argument');
    expect(existsSync(path.join(dir, name))).toBe(false);
  });
});
