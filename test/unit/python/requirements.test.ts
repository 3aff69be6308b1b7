// Requirement strings and PEP 440 versions: what `checkInstalled` decides "installed at a good version" with.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PackageError } from '../../../src/errors.js';
import { compareVersions, normalizeName, parseRequirement, readRequirementsFile, satisfies } from '../../../src/python/requirements.js';
import { meetsMinimumVersion, recommendProfileForVersion, supportsFreeThreading } from '../../../src/python/version.js';

describe('parseRequirement', () => {
  it.each([
    ['numpy', { name: 'numpy', extras: [], specifiers: [] }],
    ['grpcio>=1.66,<2', { name: 'grpcio', specifiers: [{ op: '>=', version: '1.66' }, { op: '<', version: '2' }] }],
    ['Requests[socks, security] ~= 2.31', { key: 'requests', extras: ['socks', 'security'], specifiers: [{ op: '~=', version: '2.31' }] }],
    ['pkg (==1.0.*)', { specifiers: [{ op: '==', version: '1.0.*' }] }],
    ['tomli>=1; python_version < "3.11"', { name: 'tomli', marker: 'python_version < "3.11"' }],
    ['mypkg @ https://example.invalid/mypkg.whl ; sys_platform == "linux"', { url: 'https://example.invalid/mypkg.whl', marker: 'sys_platform == "linux"' }],
    ['Zope.Interface_X', { key: 'zope-interface-x' }],
  ])('%s', (text, expected) => {
    expect(parseRequirement(text)).toMatchObject(expected);
  });

  it.each(['', '>=1', 'numpy>>1', 'numpy>=1.0.*', 'numpy~=1', 'numpy==banana', 'numpy; ', '-e .'])('rejects %j with invalid_requirement', (text) => {
    expect(() => parseRequirement(text)).toThrow(expect.objectContaining({ code: 'invalid_requirement', category: 'validation' }));
  });
});

describe('versions', () => {
  it.each([
    ['1.0', '1.0.0', 0],
    ['1.0.dev1', '1.0a1', -1],
    ['1.0a1', '1.0b1', -1],
    ['1.0rc1', '1.0', -1],
    ['1.0', '1.0.post1', -1],
    ['1.0.post1.dev1', '1.0.post1', -1],
    ['1!0.1', '2.0', 1],
    ['1.10', '1.9', 1],
    ['1.0+local', '1.0', 1],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });

  it.each([
    ['1.26.4', '>=1.26,<3', true],
    ['3.0.0', '>=1.26,<3', false],
    ['2.0rc1', '<2', false],
    ['2.0rc1', '<2.0rc2', true],
    ['1.4.5', '~=1.4.2', true],
    ['1.5.0', '~=1.4.2', false],
    ['1.5.0', '~=1.4', true],
    ['2.0', '~=1.4', false],
    ['1.0.5', '==1.0.*', true],
    ['1.1', '==1.0.*', false],
    ['1.0+cpu', '==1.0', true],
    ['1.0', '!=1.0', false],
    ['1.0.post1', '>1.0', false],
    ['1.0.1', '>1.0', true],
    ['abc', '===abc', true],
  ])('%s satisfies %s: %s', (version, spec, expected) => {
    expect(satisfies(version, parseRequirement(`x${spec}`).specifiers)).toBe(expected);
  });

  it('normalises names as PEP 503 does', () => {
    expect(normalizeName('Foo__Bar.baz-Qux')).toBe('foo-bar-baz-qux');
  });
});

describe('readRequirementsFile', () => {
  it('follows -r includes, drops comments, options and hashes, and sets aside unverifiable lines', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-req-'));
    writeFileSync(path.join(dir, 'base.txt'), 'msgpack>=1.0  # wire format\n');
    writeFileSync(
      path.join(dir, 'req.txt'),
      ['--index-url https://pypi.invalid/simple', '-r base.txt', 'numpy>=1.26 \\', '  ; python_version >= "3.9"', 'pandas==2.2.0 --hash=sha256:abc', '-e ./local_pkg', './wheels/x.whl', ''].join('\n'),
    );
    const read = await readRequirementsFile(path.join(dir, 'req.txt'));
    expect(read.requirements.map((r) => r.key)).toEqual(['msgpack', 'numpy', 'pandas']);
    expect(read.requirements[1]?.marker).toBe('python_version >= "3.9"');
    expect(read.unverifiable).toEqual(['-e ./local_pkg', './wheels/x.whl']);
    expect(read.files).toHaveLength(2);
  });

  it('names the file of a bad line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-req-'));
    writeFileSync(path.join(dir, 'bad.txt'), 'numpy>=\n');
    const error = await readRequirementsFile(path.join(dir, 'bad.txt')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PackageError);
    expect(error).toMatchObject({ code: 'invalid_requirement', details: { file: path.join(dir, 'bad.txt') } });
  });
});

describe('Python versions and profiles', () => {
  it.each([
    [[3, 8, 18], false, false, 'process'],
    [[3, 9, 0], true, false, 'process'],
    [[3, 12, 1], true, false, 'process'],
    [[3, 13, 0], true, true, 'thread'],
  ] as const)('%j: supported %s, free-threading %s, recommended %s', (version, supported, freeThreading, profile) => {
    expect(meetsMinimumVersion(version)).toBe(supported);
    expect(supportsFreeThreading(version)).toBe(freeThreading);
    expect(recommendProfileForVersion(version)).toBe(profile);
  });
});
