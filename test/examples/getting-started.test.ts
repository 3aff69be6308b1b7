// guides/getting-started.md's library example (Snakepit.start ... stop, no CLI), run with plain node + tsx.
import { describe, expect, it } from 'vitest';
import { runTsFile } from '../helpers/examples.js';

describe('getting-started example', () => {
  it('runs calls, an abort, streams, a session, a typed error and stats, then stops', async () => {
    const r = await runTsFile('examples/getting-started.ts');
    expect(r.exitCode).toBe(0);
    // The aborted call may be counted or not, depending on whether it reached a worker.
    const lines = r.stdout.split('\n').map((line) => line.replace(/^stats \{ requests: \d+,/, 'stats { requests: N,'));
    expect(lines).toEqual([
      'add 35',
      'aborted aborted',
      'step 1',
      'step 2',
      'step 3',
      'callback 1',
      'callback 2',
      'recall green true',
      'error python_error python_error unknown_operation',
      'stats { requests: N, workers: 2, busy: 0 }',
      'workers ready ready',
    ]);
  });
});

describe('script-mode example', () => {
  it('runAsScript starts, runs the function, stops, and resolves with its result', async () => {
    const r = await runTsFile('examples/script-mode.ts');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe('total 3');
  });
});
