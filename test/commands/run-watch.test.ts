// `snakepit run --watch`: an edit of the pool's Python source reaches the running script, and the reload is reported.
import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchedAdapter } from '../helpers/watched-adapter.js';

const BIN = path.resolve('bin/run.js');

describe('snakepit run --watch', () => {
  it('replaces the workers when the adapter changes while the script runs, and says so on stderr', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-run-watch-'));
    writeFileSync(path.join(dir, 'watched_adapter.py'), watchedAdapter(1));
    const config = path.join(dir, 'snakepit.config.json');
    writeFileSync(config, JSON.stringify({ pools: [{ name: 'default', poolSize: 1, adapter: 'watched_adapter.WatchedAdapter', pythonPath: [dir] }] }));
    const child = execa(process.execPath, [BIN, 'run', 'test/fixtures/scripts/watch-reload.ts', '--config', config, '--watch'], { reject: false, timeout: 60_000 });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('watching') && resolve());
      void child.then(() => reject(new Error('the script ended before it watched')));
    });
    writeFileSync(path.join(dir, 'watched_adapter.py'), watchedAdapter(2));
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^before=v1\.$/m);
    expect(r.stdout).toMatch(/^after=v2\.\.$/m);
    expect(r.stderr).toMatch(/^snakepit watch: .*watched_adapter\.py changed: reloading pool default$/m);
    expect(r.stderr).toMatch(/^snakepit watch: pool default: 1 worker on the new code/m);
  });
});
