// A spawned pipe worker's fds 3/4 are real pipes (FIFOs, made and unlinked at once); a gRPC
// worker's stay socketpairs. Nothing of them stays on disk, and a replaced worker's pipes are closed.
import { once } from 'node:events';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { runDirOf } from '../../src/process/run-dir.js';
import { startPool, TRANSPORT, waitForFullPool } from '../helpers/pool.js';

/** The kind of file behind fd `fd` of process `pid`. */
function fdKind(pid: number, fd: number): 'fifo' | 'socket' | 'other' {
  const stat = statSync(`/proc/${pid}/fd/${fd}`);
  return stat.isFIFO() ? 'fifo' : stat.isSocket() ? 'socket' : 'other';
}

const ECHO = 'echo_adapter.EchoAdapter';

const hostFds = (): number => readdirSync('/proc/self/fd').length;

describe.runIf(process.platform === 'linux')('protocol pipes of spawned workers', () => {
  let sp: Snakepit | undefined;
  afterEach(async () => {
    await sp?.stop();
    sp = undefined;
  });

  it(`are ${TRANSPORT === 'pipe' ? 'FIFOs' : 'socketpairs'} on both fds, with nothing left in the run folder; the folder goes with the pool`, async () => {
    ({ sp } = await startPool({ poolSize: 2, adapter: ECHO }));
    const expected = TRANSPORT === 'pipe' ? 'fifo' : 'socket';
    for (const w of sp.listWorkers()) expect([fdKind(w.pid!, 3), fdKind(w.pid!, 4)]).toEqual([expected, expected]);
    await expect(sp.execute('echo_value', { value: 'x' })).resolves.toBe('x');
    const runDir = runDirOf(sp.runId);
    // The FIFOs were unlinked as soon as both ends were open (gRPC sockets of the run may be there).
    const left = existsSync(runDir) ? readdirSync(runDir).filter((name) => name.startsWith('pipes-')) : [];
    expect(left).toEqual([]);
    await sp.stop();
    sp = undefined;
    if (TRANSPORT === 'pipe') expect(existsSync(runDir)).toBe(false);
  });

  it('of replaced workers are closed on the host: its open fds come back to the same count', async () => {
    ({ sp } = await startPool({ poolSize: 1, adapter: ECHO }));
    await sp.execute('echo_value', { value: 'warm' });
    const before = hostFds();
    for (let i = 0; i < 4; i++) {
      const [worker] = sp.listWorkers();
      const exited = once(sp.pool(), 'worker:exit');
      process.kill(worker!.pid!, 'SIGKILL');
      await exited;
      await waitForFullPool(sp, 1);
    }
    await expect(sp.execute('echo_value', { value: 'x' })).resolves.toBe('x');
    expect(hostFds()).toBe(before);
  });
});
