// schedulingPolicy: every thread of every worker (spawned, forked, and the fork template) runs under
// SCHED_BATCH with 'batch', and under the host's own policy by default ('inherit'). Real workers, read in /proc.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { linuxProc } from '../../src/process/proc.js';
import { FIXTURES, startPool, TRANSPORT } from '../helpers/pool.js';

const SCHED_OTHER = 0;
const SCHED_BATCH = 3;

/** The policy of each thread of `pid` (field 41 of /proc/<pid>/task/<tid>/stat). */
function threadPolicies(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis start at field 3.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[41 - 3]);
  });
}

const pool = (name: string, extra: Record<string, unknown>) => ({ name, poolSize: 2, transport: TRANSPORT, adapter: 'echo_adapter.EchoAdapter', pythonPath: [FIXTURES], ...extra });

// A host started under another policy (`chrt`) passes it on whatever the option: nothing to tell apart.
const hostUnderDefault = process.platform === 'linux' && threadPolicies(process.pid)[0] === SCHED_OTHER;

describe.skipIf(!hostUnderDefault)(`schedulingPolicy (${TRANSPORT})`, () => {
  let sp: Snakepit;
  beforeAll(async () => {
    ({ sp } = await startPool({}, {
      pools: [
        pool('batch', { schedulingPolicy: 'batch' }),
        pool('inherit', {}),
        pool('forked', { startMode: 'fork', schedulingPolicy: 'batch' }),
      ],
    }));
  });
  afterAll(() => sp.stop());

  const pidsOf = (name: string) => sp.pool(name).listWorkers().map((w) => w.pid!);

  it("'batch': every thread of every worker runs under SCHED_BATCH", async () => {
    await sp.execute('echo', { value: 1 }, { pool: 'batch' }); // the call path's threads exist by now
    const pids = pidsOf('batch');
    expect(pids).toHaveLength(2);
    for (const pid of pids) {
      const policies = threadPolicies(pid);
      expect(policies.length).toBeGreaterThan(1);
      expect(new Set(policies)).toEqual(new Set([SCHED_BATCH]));
    }
  });

  it("defaults to 'inherit': the workers run under the host's policy", async () => {
    await sp.execute('echo', { value: 1 }, { pool: 'inherit' });
    for (const pid of pidsOf('inherit')) expect(new Set(threadPolicies(pid))).toEqual(new Set([SCHED_OTHER]));
  });

  it('forked workers and their template run under SCHED_BATCH', async () => {
    await sp.execute('echo', { value: 1 }, { pool: 'forked' });
    const workers = sp.pool('forked').listWorkers();
    expect(workers.map((w) => w.startMode)).toEqual(['fork', 'fork']);
    const template = linuxProc.stat(workers[0]!.pid!)!.ppid;
    for (const pid of [template, ...pidsOf('forked')]) expect(new Set(threadPolicies(pid))).toEqual(new Set([SCHED_BATCH]));
  });
});
