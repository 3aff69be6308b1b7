// guides/cli.md's library example: PythonPackages and probePython on the development venv (nothing installed).
import { describe, expect, it } from 'vitest';
import { runTsFile } from '../helpers/examples.js';

describe('python environment example', () => {
  it('checks requirements, skips a needless install, reads lock metadata and probes the interpreter', async () => {
    const r = await runTsFile('examples/python-env.ts');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'all installed: false',
      "missing: [ 'surely-not-installed-pkg>=1 (not_installed)' ]",
      'installer ran: false',
      'msgpack locked: string 64',
      'python: 3 true boolean',
    ]);
  });
});
