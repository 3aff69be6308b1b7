// The worker registry: atomic files in a private folder, liveness of hosts across pid reuse.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseStat } from '../../../src/process/proc.js';
import {
  hostAlive,
  listRecords,
  parseRecord,
  readRecord,
  recordPath,
  removeStaleAsideFiles,
  runtimeDir,
  RunRegistry,
  writeRecordAtomic,
  type RunRecord,
} from '../../../src/process/registry.js';
import { fakeProc, stat } from '../../helpers/fake-proc.js';

const record = (over: Partial<RunRecord> = {}): RunRecord => ({ version: 1, runId: 'abcdefg', hostPid: 4242, hostStartTime: '100', createdAt: new Date().toISOString(), workers: [], ...over });

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'snakepit-registry-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('runtimeDir', () => {
  it('uses $XDG_RUNTIME_DIR/snakepit when it is writable', () => {
    expect(runtimeDir({ XDG_RUNTIME_DIR: root })).toBe(path.join(root, 'snakepit'));
  });

  it('falls back to <tmpdir>/snakepit-<uid> when unset, relative or missing', () => {
    const fallback = path.join(os.tmpdir(), `snakepit-${process.getuid!()}`);
    expect(runtimeDir({})).toBe(fallback);
    expect(runtimeDir({ XDG_RUNTIME_DIR: 'relative/dir' })).toBe(fallback);
    expect(runtimeDir({ XDG_RUNTIME_DIR: path.join(root, 'missing') })).toBe(fallback);
  });
});

describe('run files', () => {
  it('are written aside and renamed: no partial file, no leftovers, mode 0600', () => {
    const file = recordPath(root, 'abcdefg');
    writeRecordAtomic(file, record());
    writeRecordAtomic(file, record({ workers: [{ pid: 7, pgid: 7, startTime: '5' }] }));
    expect(readdirSync(root)).toEqual(['abcdefg.json']);
    expect(readRecord(file)?.workers).toEqual([{ pid: 7, pgid: 7, startTime: '5' }]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('read back as undefined when damaged or foreign', () => {
    expect(parseRecord('{"version":1,"runId":"abc')).toBeUndefined();
    expect(parseRecord(JSON.stringify({ ...record(), runId: '../../etc' }))).toBeUndefined();
    expect(parseRecord(JSON.stringify({ ...record(), workers: [{ pid: -1, pgid: 1, startTime: null }] }))).toBeUndefined();
    const intact = record();
    expect(parseRecord(JSON.stringify(intact))).toEqual(intact);
  });

  it('are listed with damaged ones flagged; a missing folder lists as empty', () => {
    writeRecordAtomic(recordPath(root, 'abcdefg'), record());
    writeFileSync(path.join(root, 'zzzzzzz.json'), 'not json');
    const entries = listRecords(root).sort((a, b) => a.file.localeCompare(b.file));
    expect(entries.map((e) => [path.basename(e.file), e.record?.runId])).toEqual([
      ['abcdefg.json', 'abcdefg'],
      ['zzzzzzz.json', undefined],
    ]);
    expect(listRecords(path.join(root, 'nope'))).toEqual([]);
  });

  it('left aside by a writer that died are removed once old', () => {
    const aside = path.join(root, 'abcdefg.json.123.beef.tmp');
    writeFileSync(aside, '{');
    removeStaleAsideFiles(root);
    expect(readdirSync(root)).toEqual(['abcdefg.json.123.beef.tmp']);
    utimesSync(aside, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    removeStaleAsideFiles(root);
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('hostAlive', () => {
  it('is true for the same pid with the same start time', () => {
    expect(hostAlive(record(), fakeProc({ 4242: { stat: stat('100') } }))).toBe(true);
  });

  it('is false for a reused pid (another start time), a zombie, or no process', () => {
    expect(hostAlive(record(), fakeProc({ 4242: { stat: stat('999') } }))).toBe(false);
    expect(hostAlive(record(), fakeProc({ 4242: { stat: stat('100', { state: 'Z' }) } }))).toBe(false);
    expect(hostAlive(record(), fakeProc({}))).toBe(false);
  });
});

describe('parseStat', () => {
  it('reads state, ppid, pgrp and start time past a name with spaces and parentheses', () => {
    const fields = ['S', '1', '77', ...Array.from({ length: 16 }, (_, i) => String(i)), '123456', '0'];
    expect(parseStat(`77 (we (ird) name) ${fields.join(' ')}`)).toEqual({ state: 'S', ppid: 1, pgrp: 77, startTime: '123456' });
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('reads this process from the real /proc', () => {
    const own = parseStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(own?.state).toMatch(/^[RS]$/);
  });
});

describe('RunRegistry', () => {
  it('claims a run id exclusively, in a private folder', () => {
    const dir = path.join(root, 'rt', 'registry');
    const a = RunRegistry.claim('abcdefg', dir);
    expect(a).toBeDefined();
    expect(RunRegistry.claim('abcdefg', dir)).toBeUndefined();
    expect(statSync(path.dirname(dir)).mode & 0o777).toBe(0o700);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readRecord(a!.file)).toMatchObject({ runId: 'abcdefg', hostPid: process.pid, workers: [] });
  });

  it('tightens a folder another umask left open', () => {
    const rt = path.join(root, 'rt');
    mkdirSync(rt);
    chmodSync(rt, 0o755);
    RunRegistry.claim('abcdefg', path.join(rt, 'registry'));
    expect(statSync(rt).mode & 0o777).toBe(0o700);
  });

  it('follows workers, and its file goes when the run closes with none left', () => {
    const reg = RunRegistry.claim('abcdefg', root)!;
    reg.add(111);
    reg.add(222, 222);
    expect(readRecord(reg.file)?.workers.map((w) => w.pid)).toEqual([111, 222]);
    reg.remove(111);
    expect(readRecord(reg.file)?.workers.map((w) => w.pid)).toEqual([222]);
    reg.close();
    // 222 is still recorded: the file stays until its exit is seen.
    expect(readRecord(reg.file)?.workers.map((w) => w.pid)).toEqual([222]);
    expect(reg.done).toBe(false);
    reg.remove(222);
    expect(reg.done).toBe(true);
    expect(readdirSync(root)).toEqual([]);
  });

  it('records the host start time and each worker start time from /proc', () => {
    const proc = fakeProc({ [process.pid]: { stat: stat('4000') }, 333: { stat: stat('5000') } });
    const reg = RunRegistry.claim('abcdefg', root, proc)!;
    reg.add(333);
    expect(readRecord(reg.file)).toMatchObject({ hostStartTime: '4000', workers: [{ pid: 333, pgid: 333, startTime: '5000' }] });
    reg.discard();
  });
});
