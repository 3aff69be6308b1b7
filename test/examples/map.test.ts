// The map guide's example, run through `snakepit run` as guides/map.md tells users to.
import { describe, expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';

describe('map example', () => {
  it('examples/map.ts: results in order, settle and fail modes, the iterable form, progress and abort, sessions, options', async () => {
    const r = await runExample('examples/map.ts', { config: 'examples/map.config.ts' });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n').map((line) => line.replace(/ {2,}/, ' '));
    expect(lines).toContain('vectors {"count":10000,"first":[30,9,6],"last":[33,9,6]}');
    expect(lines).toContain('$4.20 4.2');
    expect(lines).toContain('free {"code":"python_error","type":"ValueError"}');
    expect(lines).toContain('$10 10');
    expect(lines).toContain(' {"code":"python_error","type":"ValueError"}');
    expect(lines).toContain('first failure {"code":"python_error","index":2,"name":"PythonValueError"}');
    expect(lines).toContain('stopped at 1013');
    expect(lines).toContain('aborted {"code":"aborted","progressed":true,"done":true}');
    expect(lines).toContain('session {"session":"user-42","seen":50}');
    expect(lines).toContain('calls for 1000 10');
  });
});
