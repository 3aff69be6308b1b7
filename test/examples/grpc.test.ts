// The gRPC guide's example, run through `snakepit run` as guides/grpc.md tells users to: spawned gRPC
// workers (calls, a cancelled stream, sessions), then a hand-started worker attached with its token.
import { describe, expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';

describe('grpc example', () => {
  it('examples/grpc.ts: spawned gRPC workers, an attached worker, a wrong token refused', async () => {
    const r = await runExample('examples/grpc.ts', { config: 'examples/grpc.config.ts' });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = r.stdout.split('\n').map((line) => line.replace(/ {2,}/, ' '));
    expect(out.slice(0, 6)).toEqual([
      'add over gRPC {"result":3,"operation":"addition","success":true}',
      'chunk 1',
      'chunk 2',
      'session recall 42',
      'attached worker {"samePid":true,"tools":true}',
      'alive after stop true',
    ]);
    expect(out[6]).toMatch(/^wrong token \{"code":"unauthenticated",/);
  });
});
