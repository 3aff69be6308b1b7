// Both halves of the pipe protocol know the same frames, and the host knows every error code Python sends:
// Python's lists come from `python -m snakepit_bridge.pipe.frames` (kept honest by its own tests).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WIRE_ERROR_CODES } from '../../../../src/error-table.js';
import { COMPACT, HOST_FRAME_TYPES, WORKER_FRAME_TYPES } from '../../../../src/transport/pipe/frames.js';

const python = path.resolve('.venv/bin/python');
const manifest = JSON.parse(
  execFileSync(python, ['-m', 'snakepit_bridge.pipe.frames'], { env: { ...process.env, PYTHONPATH: path.resolve('python') }, encoding: 'utf8' }),
) as { host_to_worker: string[]; worker_to_host: string[]; error_codes: string[]; compact: Record<string, number> };

const sorted = (values: readonly string[]) => [...values].sort();

describe('pipe protocol parity, host and Python', () => {
  it('the frames the host sends are the frames Python reads', () => {
    expect(sorted(HOST_FRAME_TYPES)).toEqual(sorted(manifest.host_to_worker));
  });

  it('the frames Python sends are the frames the host reads', () => {
    expect(sorted(WORKER_FRAME_TYPES)).toEqual(sorted(manifest.worker_to_host));
  });

  it('the compact forms have the same codes on both sides', () => {
    expect(manifest.compact).toEqual(COMPACT);
  });

  it("the error codes Python sends are the error table's wire codes", () => {
    expect(sorted(WIRE_ERROR_CODES)).toEqual(sorted(manifest.error_codes));
  });
});
