// `snakepit setup` for real in a temp folder: the venv is created and filled, a second run changes nothing.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findUv, PythonPackages } from '../../src/python/packages.js';
import type { SetupReport } from '../../src/python/setup.js';
import { cli, json } from '../helpers/cli.js';

const PROJECT_PYTHON = path.resolve('.venv/bin/python');
const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-setup-'));
const pins = path.join(dir, 'requirements.txt');
const CHANGING_STEPS = ['venv', 'packages', 'link', 'stubs'];
const savedUv = process.env.SNAKEPIT_UV;
// uv (from python/requirements-dev.txt) installs from its cache in seconds; pip downloads every
// wheel again (half a minute on a loaded machine). Both run the same steps; pip's command line is
// covered by the PythonPackages tests.
let installer: 'uv' | 'pip' = 'pip';

beforeAll(async () => {
  const uv = await findUv({ python: PROJECT_PYTHON });
  if (uv) {
    process.env.SNAKEPIT_UV = uv;
    installer = 'uv';
  }
  // The user's requirements: the versions the project's venv has, so the (shared) gRPC stubs stay
  // valid for both venvs and the installer finds everything quickly.
  const { versions } = await new PythonPackages({ python: PROJECT_PYTHON }).checkInstalled(['grpcio', 'grpcio-tools', 'protobuf', 'msgpack']);
  writeFileSync(pins, `${Object.entries(versions).map(([name, v]) => `${name}==${v}`).join('\n')}\n`);
});

afterAll(() => {
  if (savedUv === undefined) delete process.env.SNAKEPIT_UV;
  else process.env.SNAKEPIT_UV = savedUv;
});

describe('snakepit setup', () => {
  const venv = path.join(dir, '.venv');

  it('creates the venv with python -m venv, installs, links the bridge, verifies', { timeout: 120_000 }, async () => {
    const r = await cli(['setup', '--json', '--venv', venv, '--installer', installer, '-r', pins]);
    expect(r.exitCode).toBe(0);
    const report = json<SetupReport>(r);
    expect(report).toMatchObject({ strategy: 'venv', venv, installer, changed: true, python: { source: 'created' } });
    expect(Object.fromEntries(report.steps.map((s) => [s.id, s.status]))).toMatchObject({ python: 'done', venv: 'done', packages: 'done', link: 'done', verify: 'done' });
    expect(existsSync(path.join(venv, 'pyvenv.cfg'))).toBe(true);
    expect(existsSync(path.join(venv, '.snakepit-setup.json'))).toBe(true);
  });

  it('a second run is a no-op: every step skipped, nothing rewritten', async () => {
    const stamp = path.join(venv, '.snakepit-setup.json');
    const before = { stamp: statSync(stamp).mtimeMs, text: readFileSync(stamp, 'utf8') };
    const r = await cli(['setup', '--json', '--venv', venv, '--installer', installer, '-r', pins]);
    expect(r.exitCode).toBe(0);
    const report = json<SetupReport>(r);
    expect(report.changed).toBe(false);
    for (const step of report.steps.filter((s) => CHANGING_STEPS.includes(s.id))) expect(step).toMatchObject({ status: 'skipped' });
    expect(statSync(stamp).mtimeMs).toBe(before.stamp);
    expect(readFileSync(stamp, 'utf8')).toBe(before.text);
  });

  it("a bare setup (no -r) installs the config's python.requirements", async () => {
    const config = path.join(dir, 'snakepit.config.json');
    writeFileSync(config, JSON.stringify({ python: { requirements: [pins] } }));
    const r = await cli(['setup', '--json', '--venv', venv, '--installer', installer, '--config', config]);
    expect(r.exitCode).toBe(0);
    const report = json<SetupReport>(r);
    expect(report.requirements).toEqual([expect.stringMatching(/python\/requirements\.txt$/), pins]);
    // The same files as the -r runs above: their stamp matches, nothing to install.
    expect(report.steps.find((s) => s.id === 'packages')).toMatchObject({ status: 'skipped' });
  });

  it('prints one line per step without --json', async () => {
    const r = await cli(['setup', '--venv', venv, '-r', pins]);
    expect(r.exitCode).toBe(0);
    for (const title of ['Find Python', 'Create the virtual environment', 'Install requirements', 'Generate the gRPC stubs', 'Verify imports']) {
      expect(r.stdout).toContain(title);
    }
  });

  it('fails on a bad requirement with its code and a fix, text and --json', async () => {
    const bad = path.join(dir, 'bad.txt');
    writeFileSync(bad, 'numpy>=\n');
    const text = await cli(['setup', '--venv', venv, '-r', bad]);
    expect(text.exitCode).toBe(1);
    expect(text.error).toMatchObject({ code: 'invalid_requirement' });
    expect(text.stderr + text.stdout).not.toMatch(/^\s+at /m); // no stack trace
    const asJson = await cli(['setup', '--json', '--venv', venv, '-r', bad]);
    expect(asJson.exitCode).toBe(1);
    expect(json<{ error: { code: string; details: { fix: string } } }>(asJson).error).toMatchObject({ code: 'invalid_requirement', details: { fix: expect.any(String) } });
  });

  it('python_not_found for an interpreter that does not exist', async () => {
    const r = await cli(['setup', '--json', '--venv', path.join(dir, 'none'), '--python', path.join(dir, 'no-python')]);
    expect(r.exitCode).toBe(1);
    expect(json<{ error: { code: string } }>(r).error.code).toBe('python_not_found');
  });

  describe('managed strategy (uv)', () => {
    let uv: string | undefined;
    beforeAll(() => {
      uv = process.env.SNAKEPIT_UV;
    });
    afterEach(() => {
      if (uv === undefined) delete process.env.SNAKEPIT_UV;
      else process.env.SNAKEPIT_UV = uv;
    });

    it('uv creates and fills the venv; a second run changes nothing', async (ctx) => {
      // uv comes with python/requirements-dev.txt; without it this is honestly skipped.
      if (installer !== 'uv') ctx.skip();
      const managed = path.join(dir, 'managed-venv');
      const first = json<SetupReport>(await cli(['setup', '--json', '--strategy', 'managed', '--venv', managed, '-r', pins]));
      expect(first).toMatchObject({ strategy: 'managed', installer: 'uv', changed: true });
      expect(readFileSync(path.join(managed, 'pyvenv.cfg'), 'utf8')).toMatch(/^uv = /m);
      const second = json<SetupReport>(await cli(['setup', '--json', '--strategy', 'managed', '--venv', managed, '-r', pins]));
      expect(second.changed).toBe(false);
    });

    it('without uv the managed strategy fails with not_installed', async () => {
      process.env.SNAKEPIT_UV = path.join(dir, 'no-uv');
      const saved = process.env.PATH;
      process.env.PATH = '/nonexistent';
      try {
        const r = await cli(['setup', '--json', '--strategy', 'managed', '--python', PROJECT_PYTHON, '--venv', path.join(dir, 'never')]);
        expect(r.exitCode).toBe(1);
        expect(json<{ error: { code: string; details: { package: string } } }>(r).error).toMatchObject({ code: 'not_installed', details: { package: 'uv' } });
      } finally {
        process.env.PATH = saved;
      }
    });
  });
});
