// guides/typed-tools.md: the typed example runs (its types are checked in test/unit/typed/type-tests.test.ts).
import { describe, expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';

describe('typed tools example', () => {
  it('calls, streams and uses a session with typed results; validateArgs rejects a mistyped argument on the host', async () => {
    const r = await runExample('examples/typed-tools.ts', { config: 'examples/typed-tools.config.ts' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^add: 3\.0$/m);
    expect(r.stdout).toMatch(/^quote: 3 x A-100 = 73\.5 EUR$/m);
    expect(r.stdout.match(/^found: .*$/gm)).toEqual(['found: desk lamp (light, desk)', 'found: floor lamp (light)']);
    expect(r.stdout.match(/^restocked: .*$/gm)).toEqual(['restocked: a-100', 'restocked: b-200']);
    expect(r.stdout).toMatch(/^in session: 218\.9$/m);
    const issues = JSON.parse(/^error: invalid_args (.*)$/m.exec(r.stdout)![1]!) as unknown[];
    expect(issues).toEqual([expect.objectContaining({ path: 'a', expected: 'number', received: '"1" (string)' })]);
  });
});
