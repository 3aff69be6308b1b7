// The streaming guide's example, run through `snakepit run` as guides/streaming.md tells users to.
import { describe, expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';

describe('streaming example', () => {
  it('examples/streaming.ts: iteration, callback, break, abort, errors, async generators, sessions, backpressure', async () => {
    const r = await runExample('examples/streaming.ts', { config: 'examples/streaming.config.ts' });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n').map((line) => line.replace(/ {2,}/, ' '));
    expect(lines.filter((line) => line.startsWith('epoch '))).toEqual([
      'epoch 1 {"loss":0.8,"accuracy":0.55}',
      'epoch 2 {"loss":0.64,"accuracy":0.6}',
      'epoch 3 {"loss":0.512,"accuracy":0.65}',
    ]);
    expect(lines).toContain('training done {"type":"complete","final_loss":0.512}');
    // The callback sees Python's StreamChunk(is_final=True) as `final`, on the last chunk only.
    expect(lines.filter((line) => /^callback( \(final\))? \{/.test(line))).toEqual([
      'callback {"type":"progress","epoch":1,"loss":0.8,"accuracy":0.55}',
      'callback {"type":"progress","epoch":2,"loss":0.64,"accuracy":0.6}',
      'callback (final) {"type":"complete","final_loss":0.64}',
    ]);
    // `break` closed the Python generator (its `finally` ran) before the next call on the worker.
    const afterBreak = /^after break \{"yielded":(\d+),"closed":true\}$/m.exec(lines.join('\n'));
    expect(Number(afterBreak?.[1])).toBeGreaterThanOrEqual(3);
    expect(lines).toContain('aborted {"code":"aborted","stage":"running","ticks":[1,2]}');
    expect(lines).toContain('failed mid-stream {"code":"python_error","name":"PythonValueError","received":[{"item":1},{"item":2}]}');
    expect(lines).toContain('pages as ready [3,2,1]');
    expect(lines.filter((line) => line.startsWith('running total'))).toEqual([
      'running total {"added":5,"total":5}',
      'running total {"added":10,"total":15}',
      'running total {"added":20,"total":35}',
    ]);
    expect(lines).toContain('total on the host 35');
    expect(lines).toContain('execute(burst) [{"i":0},{"i":1},{"i":2}]');
    // The loop stopped reading: Python waited for it (streamHighWaterMark), then went on to the end.
    expect(lines).toContain('held {"first":{"i":0},"streamsHeld":1}');
    expect(lines).toContain('after the loop {"rest":999,"streamsHeld":0}');
    // A callback that throws: its own error, the generator cancelled (its `finally` ran), the worker kept.
    expect(lines).toContain('callback threw {"message":"cannot store tick 2","snakepitError":false}');
    const after = /^generator after \{"yielded":(\d+),"closed":true\}$/m.exec(lines.join('\n'));
    expect(Number(after?.[1])).toBeGreaterThanOrEqual(2);
  });
});
