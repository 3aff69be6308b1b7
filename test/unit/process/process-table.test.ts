// The ps-based process table (macOS/BSD, forced on Linux by SNAKEPIT_PROCESS_TABLE=ps): parsing, freshness,
// and that start times of /proc and ps never compare (a live host must not look dead).
import { afterEach, describe, expect, it } from 'vitest';
import { linuxProc } from '../../../src/process/proc.js';
import { createPsReader, parsePs, systemProc } from '../../../src/process/process-table.js';
import { hostAlive, type RunRecord } from '../../../src/process/registry.js';

const ME = process.pid;
const TABLE = [
  '    1     0     0     0 Ss   Sun Dec  6 06:09:50 2026 /sbin/init splash',
  '    2     0     0     0 S    Sun Dec  6 06:09:50 2026 [kthreadd]',
  `${String(ME).padStart(5)}     1  ${ME}  1000 Sl+  Sun Dec  6 07:00:01 2026 node vitest`,
  ' 4242  4000  4242  1000 S    Mon Dec 14 23:59:59 2026 /app/.venv/bin/python -m snakepit_bridge.server --adapter a.B --snakepit-run-id k3x9a2p',
  ' 4243  4242  4242  1000 Z    Mon Dec 14 23:59:59 2026 [python] <defunct>',
  'garbage line',
].join('\n');

describe('parsePs', () => {
  const rows = parsePs(TABLE);

  it('reads pid, ppid, group, uid, state, start time and argv', () => {
    expect(rows.get(4242)).toEqual({
      stat: { state: 'S', ppid: 4000, pgrp: 4242, startTime: `ps:${Date.UTC(2026, 11, 14, 23, 59, 59) / 1000}` },
      uid: 1000,
      argv: ['/app/.venv/bin/python', '-m', 'snakepit_bridge.server', '--adapter', 'a.B', '--snakepit-run-id', 'k3x9a2p'],
    });
  });

  it('keeps the first state letter (zombies read Z) and skips lines that are no row', () => {
    expect(rows.get(4243)?.stat.state).toBe('Z');
    expect(rows.get(1)?.stat.state).toBe('S');
    expect([...rows.keys()].sort((a, b) => a - b)).toEqual([1, 2, 4242, 4243, ME].sort((a, b) => a - b));
  });
});

describe('createPsReader', () => {
  it('answers a sweep from one table, and reads it again when stale or when pids() asks', () => {
    let runs = 0;
    const reader = createPsReader({ run: () => (runs++, TABLE), maxAgeMs: 60_000 });
    expect(reader.available).toBe(true);
    expect(reader.stat(4242)?.pgrp).toBe(4242);
    expect(reader.cmdline(4242)).toContain('k3x9a2p');
    expect(reader.uid(4242)).toBe(1000);
    expect(runs).toBe(1);
    expect(reader.pids()).toContain(4242);
    expect(runs).toBe(2);
    const always = createPsReader({ run: () => (runs++, TABLE), maxAgeMs: -1 });
    always.stat(1);
    always.stat(1);
    expect(runs).toBe(4);
  });

  it('is unavailable when ps fails or does not list this process: nothing is then verified', () => {
    expect(createPsReader({ run: () => { throw new Error('no ps'); } }).available).toBe(false);
    expect(createPsReader({ run: () => TABLE.replace(`${String(ME).padStart(5)} `, '99999 ') }).available).toBe(false);
  });
});

describe('start times of /proc and ps', () => {
  it('never compare: a host recorded through /proc is not taken for dead when read through ps', () => {
    const reader = createPsReader({ run: () => TABLE });
    const record: RunRecord = { version: 1, runId: 'k3x9a2p', hostPid: ME, hostStartTime: '123456', createdAt: '', workers: [] };
    expect(hostAlive(record, reader)).toBe(true);
    expect(hostAlive({ ...record, hostStartTime: 'ps:1' }, reader)).toBe(false); // same kind, another start: another process
    expect(hostAlive({ ...record, hostStartTime: reader.stat(ME)!.startTime }, reader)).toBe(true);
  });
});

describe('systemProc', () => {
  const saved = process.env.SNAKEPIT_PROCESS_TABLE;
  afterEach(() => {
    if (saved === undefined) delete process.env.SNAKEPIT_PROCESS_TABLE;
    else process.env.SNAKEPIT_PROCESS_TABLE = saved;
  });

  it('is /proc on Linux, and ps when SNAKEPIT_PROCESS_TABLE=ps', () => {
    delete process.env.SNAKEPIT_PROCESS_TABLE;
    expect(systemProc()).toBe(linuxProc);
    process.env.SNAKEPIT_PROCESS_TABLE = 'ps';
    const ps = systemProc();
    expect(ps).not.toBe(linuxProc);
    expect(ps.stat(process.pid)?.startTime).toMatch(/^ps:\d+$/);
  });
});
