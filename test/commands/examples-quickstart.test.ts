// README's quickstart, run the way `npm run quickstart` runs it: config + adapter + script.
import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = path.resolve('bin/run.js');

describe('quickstart example', () => {
  it('calls a tool, streams, and reports a typed error', async () => {
    const r = await execa(process.execPath, [BIN, 'run', 'examples/quickstart.ts', '--config', 'examples/quickstart.config.ts'], {
      cwd: path.resolve('.'),
      reject: false,
      timeout: 60_000,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^add: \{ result: 35 \}$/m);
    expect(r.stdout.match(/^chunk: \{ step: \d, of: 3 \}$/gm)).toEqual(['chunk: { step: 1, of: 3 }', 'chunk: { step: 2, of: 3 }', 'chunk: { step: 3, of: 3 }']);
    expect(r.stdout).toMatch(/^error: invalid_args$/m);
  });
});
