// The start-modes example, run through `snakepit run` as guides/worker-profiles.md tells users to:
// workers forked from one template that loaded the table once, and a crash replaced from it.
import { describe, expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';

describe('start modes example', () => {
  it('examples/fork.ts: three forked workers share one preloaded table; a killed one is forked again', async () => {
    const r = await runExample('examples/fork.ts', { config: 'examples/fork.config.ts' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).map((line) => line.replace(/ {2,}/, ' '))).toEqual([
      'start modes ["fork","fork","fork"]',
      'loaded once {"loaders":1,"byTheParentOfAll":true}',
      'embed("fork") [0.2771,0.3519,-0.2854]',
      'replacement {"startMode":"fork","sameTemplate":true}',
    ]);
    // stderr: nothing at the default logLevel 'error' (the lost worker and a start-up sweep are warnings);
    // the patterns allow those should a user's environment lower the level.
    const lines = r.stderr.split('\n').filter(Boolean);
    for (const line of lines) expect(line).toMatch(/^\[snakepit\] warn: (Worker embed-\d exited \(signal: |Stopping \d+ worker process\(es\) left by dead run)/);
  });
});
