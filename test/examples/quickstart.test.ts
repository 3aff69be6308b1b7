// README's quickstart, run the way `npm run quickstart` runs it: config + adapter + script.
import { describe, expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';

describe('quickstart example', () => {
  it('calls a tool, streams, and reports a typed error', async () => {
    const r = await runExample('examples/quickstart.ts', { config: 'examples/quickstart.config.ts' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^add: \{ result: 35 \}$/m);
    expect(r.stdout.match(/^chunk: \{ step: \d, of: 3 \}$/gm)).toEqual(['chunk: { step: 1, of: 3 }', 'chunk: { step: 2, of: 3 }', 'chunk: { step: 3, of: 3 }']);
    expect(r.stdout).toMatch(/^error: invalid_args$/m);
  });
});
