// `snakepit run`: starts pools from config, runs the script, always stops workers, exits with the script's code.
import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';
import { processAlive } from '../helpers/pool.js';

const BIN = path.resolve('bin/run.js');
const SCRIPTS = path.resolve('test/fixtures/scripts');
const run = (args: string[]) => execa(process.execPath, [BIN, 'run', ...args], { cwd: SCRIPTS, reject: false, timeout: 60_000 });

describe('snakepit run', () => {
  it('runs the host tools example: Python calls Node both ways, state shared', async () => {
    const r = await runExample('examples/host-tools.ts');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^valid input\s+\{"success":true/m);
    expect(r.stdout).toMatch(/^invalid input\s+\{"error":"validation failed"/m);
    expect(r.stdout).toMatch(/^counter from Node\s+5$/m);
    expect(r.stdout).toMatch(/^other session\s+\{"code":"unknown_host_tool","available":\["store_result"\]\}/m);
  });

  it("exits with the script's exitCode and passes the arguments after the script", async () => {
    const r = await run(['exit-code.ts', 'a', 'b']);
    expect(r.stdout).toContain('result=3 args=a,b');
    expect(r.exitCode).toBe(3);
  });

  it('is quiet by default (logLevel error); --log-categories python=info shows what Python printed', async () => {
    const quiet = await run(['noisy-call.ts', '--config', 'noisy.config.json']);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stdout).toBe('called');
    expect(quiet.stderr).not.toContain('hello from print()');
    const loud = await run(['noisy-call.ts', '--config', 'noisy.config.json', '--log-categories', 'python=info']);
    expect(loud.exitCode).toBe(0);
    expect(loud.stderr).toMatch(/^\[snakepit default-\d+\] noisy call: hello from print\(\)$/m);
  });

  it('rejects a --log-categories entry that is neither category=level nor a category name', async () => {
    const r = await run(['noisy-call.ts', '--log-categories', 'python=loud']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('invalid_argument');
  });

  it('exits 1 when the script throws', async () => {
    const r = await run(['throws.ts']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('script failed on purpose');
  });

  it('stops every worker on Ctrl-C and exits 130', async () => {
    const child = run(['waits.ts']);
    const pids = await new Promise<number[]>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        const m = /pids=([\d,]+)/.exec(d.toString());
        if (m?.[1]) resolve(m[1].split(',').map(Number));
      });
      child.once('exit', () => reject(new Error('exited before reporting pids')));
    });
    expect(pids).toHaveLength(2);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(pids.filter(processAlive)).toEqual([]);
  });
});
