// PythonPackages against the project's venv (made by the test global setup): checks, lock data, installer errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PythonPackages, findUv } from '../../../src/python/packages.js';
import { probePython } from '../../../src/python/version.js';

const PYTHON = path.resolve('.venv/bin/python');

describe('PythonPackages', () => {
  const pkgs = new PythonPackages({ python: PYTHON });

  it('reports missing and mismatched requirements and skips those whose marker does not apply', async () => {
    const r = await pkgs.checkInstalled(['msgpack>=1', 'msgpack<1', 'snakepit-surely-absent-pkg', 'snakepit-other-absent; python_version < "3"']);
    expect(r.allInstalled).toBe(false);
    expect(r.missing.map((m) => [m.requirement, m.reason])).toEqual([
      ['msgpack<1', 'version_mismatch'],
      ['snakepit-surely-absent-pkg', 'not_installed'],
    ]);
    expect(r.versions.msgpack).toMatch(/^\d+\.\d+/);
  });

  it('checks a requirements file: the bridge requirements are all installed', async () => {
    const r = await pkgs.checkInstalled({ file: path.resolve('python/requirements.txt') });
    expect(r).toMatchObject({ allInstalled: true, missing: [] });
  });

  it('ensure() does nothing when everything is installed', async () => {
    await expect(pkgs.ensure(['msgpack', 'grpcio>=1.66'])).resolves.toEqual({ installed: false, missing: [], installer: null });
  });

  it('lockMetadata() gives version and RECORD hash, and not_installed for an absent package', async () => {
    const lock = await pkgs.lockMetadata(['msgpack', 'grpcio']);
    expect(lock.msgpack).toEqual({ version: expect.stringMatching(/^\d/), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await expect(pkgs.lockMetadata(['snakepit-surely-absent-pkg'])).rejects.toMatchObject({ code: 'not_installed', category: 'validation' });
  });

  it('rejects a bad requirement before any installer runs', async () => {
    await expect(pkgs.install(['numpy>=='])).rejects.toMatchObject({ code: 'invalid_requirement' });
  });

  const failingInstall = async (installer: 'pip' | 'uv') => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-pkgs-'));
    writeFileSync(path.join(dir, 'req.txt'), `${path.join(dir, 'missing', 'snakepit_absent-1.0-py3-none-any.whl')}\n`);
    const error = await new PythonPackages({ python: PYTHON, installer }).install({ file: path.join(dir, 'req.txt') }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'install_failed', details: { installer, timedOut: false, output: expect.any(String) } });
  };

  it('install_failed with the installer output when pip fails', () => failingInstall('pip'));

  it('install_failed with the installer output when uv fails', async (ctx) => {
    if (!(await findUv({ python: PYTHON }))) ctx.skip(); // uv comes with requirements-dev.txt
    await failingInstall('uv');
  });

  it('install_failed with timedOut when the installer runs past the timeout', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-pkgs-'));
    writeFileSync(path.join(dir, 'req.txt'), `${path.join(dir, 'missing.whl')}\n`);
    const slow = new PythonPackages({ python: PYTHON, installer: 'pip', installTimeoutMs: 1 });
    await expect(slow.install({ file: path.join(dir, 'req.txt') })).rejects.toMatchObject({ code: 'install_failed', details: { timedOut: true } });
  });

  it('installer(): a forced uv that is missing is not_installed', async () => {
    const none = new PythonPackages({ python: PYTHON, installer: 'uv', uv: path.join(os.tmpdir(), 'no-such-uv') });
    await expect(none.installer()).rejects.toMatchObject({ code: 'not_installed', details: { package: 'uv' } });
  });
});

describe('probePython', () => {
  it('describes the venv interpreter', async () => {
    const info = await probePython(PYTHON);
    expect(info).toMatchObject({ inVenv: true, implementation: 'cpython', executable: PYTHON });
    expect(info.version[0]).toBe(3);
    expect(typeof info.gilEnabled).toBe('boolean');
  });

  it('python_not_found for a missing interpreter', async () => {
    await expect(probePython(path.join(os.tmpdir(), 'no-such-python'))).rejects.toMatchObject({ code: 'python_not_found' });
  });
});
