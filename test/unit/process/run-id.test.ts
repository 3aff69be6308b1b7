// Run ids: the original's 7-character base36 format, unique, and found again on a command line.
import { describe, expect, it } from 'vitest';
import { extractRunId, generateRunId, isRunId } from '../../../src/process/run-id.js';

describe('generateRunId', () => {
  it('makes 7 base36 characters: 5 of timestamp, 2 random', () => {
    const now = 1_700_000_000_123;
    const id = generateRunId(now + 1_000_000);
    expect(id).toMatch(/^[0-9a-z]{7}$/);
    expect(isRunId(id)).toBe(true);
    expect(parseInt(id.slice(0, 5), 36)).toBe((now + 1_000_000) % 36 ** 5);
  });

  it('never repeats within a process, even in one millisecond', () => {
    const now = Date.now() + 10_000_000;
    const ids = Array.from({ length: 5_000 }, () => generateRunId(now));
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.slice(0, 5))).size).toBe(ids.length);
  });
});

describe('isRunId', () => {
  it.each(['k3x9a2p', '0000000'])('accepts %s', (id) => expect(isRunId(id)).toBe(true));
  it.each(['r1', 'K3X9A2P', 'k3x9a2p1', '0123456789ab', 'k3x-a2p', ''])('rejects %j', (id) => expect(isRunId(id)).toBe(false));
});

describe('extractRunId', () => {
  it('reads --snakepit-run-id from a command string (the original example)', () => {
    expect(extractRunId('python3 grpc_server.py --snakepit-run-id k3x9a2p --port 50051')).toBe('k3x9a2p');
  });

  it('reads --run-id too, and the --flag=value form', () => {
    expect(extractRunId('python3 grpc_server.py --run-id k3x9a2p')).toBe('k3x9a2p');
    expect(extractRunId(['python', '-m', 'snakepit_bridge.server', '--snakepit-run-id=abc1234'])).toBe('abc1234');
  });

  it('prefers --snakepit-run-id over --run-id', () => {
    expect(extractRunId(['x', '--run-id', 'aaaaaaa', '--snakepit-run-id', 'bbbbbbb'])).toBe('bbbbbbb');
  });

  it('reads an argv array (a /proc cmdline) with odd arguments', () => {
    const argv = ['/usr/bin/python3', '-c', 'import time; time.sleep(1)', '--snakepit-run-id', 'zz00zz0', '--adapter', 'a b'];
    expect(extractRunId(argv)).toBe('zz00zz0');
  });

  it('finds nothing where there is no run id', () => {
    expect(extractRunId('no run id here')).toBeUndefined();
    expect(extractRunId(['python', '-m', 'snakepit_bridge.server'])).toBeUndefined();
    expect(extractRunId(['x', '--snakepit-run-id'])).toBeUndefined();
    expect(extractRunId(['x', '--snakepit-run-id', '--adapter', 'y'])).toBeUndefined();
    expect(extractRunId(['x', '--my-run-id', 'abcdefg'])).toBeUndefined();
  });
});
