// The gRPC guide's example, run through `snakepit run` as guides/grpc.md tells users to: spawned gRPC
// workers (calls, a cancelled stream, sessions), then a hand-started worker attached with its token.
import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = path.resolve('bin/run.js');

describe('grpc example', () => {
  it('examples/grpc.ts: spawned gRPC workers, an attached worker, a wrong token refused', async () => {
    const r = await execa(process.execPath, [BIN, 'run', 'examples/grpc.ts', '--config', 'examples/grpc.config.ts'], {
      cwd: path.resolve('.'),
      reject: false,
      timeout: 60_000,
    });
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
