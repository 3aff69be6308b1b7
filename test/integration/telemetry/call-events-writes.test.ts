// With the bridge's per-call events on (a handler on python.call.*), a pipe worker sends a call's
// events with its answer: one write per call, not three, and python.call.stop still arrives first.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { telemetry, type Snakepit } from '../../../src/index.js';
import { startPool, TRANSPORT } from '../../helpers/pool.js';

/** write(2)-family calls a process made so far (`syscw` of /proc/<pid>/io). */
const writeCalls = (pid: number): number => Number(/syscw: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);

describe.runIf(TRANSPORT === 'pipe' && process.platform === 'linux')('python call events over the pipe', () => {
  let sp: Snakepit | undefined;
  afterEach(async () => {
    telemetry.detach('call-events-writes');
    await sp?.stop();
    sp = undefined;
  });

  it("leave in the call's own write, each call's python.call.stop before its answer", async () => {
    ({ sp } = await startPool({ adapter: 'echo_adapter.EchoAdapter', heartbeat: { enabled: false } }));
    let stops = 0;
    telemetry.attach('call-events-writes', ['snakepit.python.call.start', 'snakepit.python.call.stop'], (event) => {
      if (event === 'snakepit.python.call.stop') stops++;
    });
    await sp.execute('echo_value', { value: 0 }); // the control frame that turns the events on has been read
    const pid = sp.listWorkers()[0]!.pid!;
    const calls = 200;
    const before = writeCalls(pid);
    const stopsBefore = stops;
    for (let i = 1; i <= calls; i++) {
      await sp.execute('echo_value', { value: i });
      expect(stops - stopsBefore).toBe(i);
    }
    expect((writeCalls(pid) - before) / calls).toBeLessThan(1.2); // three per call when each frame had its own
  });
});
