// Host side of the data plane: shared-memory refs (ext 3), payload limit, Fortran/float16 tensors.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PayloadTooLargeError } from '../../../src/errors.js';
import { attach, detach } from '../../../src/telemetry/bus.js';
import { Tensor } from '../../../src/tensor.js';
import { decode, encodePayload } from '../../../src/transport/codec.js';
import { SHM_DIR, shmPrefix, sweepShm } from '../../../src/transport/shm.js';

const RUN = 'zz' + String(process.pid % 100_000).padStart(5, '0');
const zeroCopy = { thresholdBytes: 1024, runId: RUN };
const files = () => readdirSync(SHM_DIR).filter((n) => n.startsWith(shmPrefix(RUN)));

afterEach(() => {
  sweepShm((runId) => runId === RUN);
});

describe('encodePayload', () => {
  it('keeps small values inline and moves large ones to /dev/shm', () => {
    const blob = Buffer.alloc(4096, 7);
    const tensor = new Tensor('float64', [16, 16], new Float64Array(256).fill(1.5), 'F');
    const value = { small: Buffer.from([1]), list: [blob], tensor };
    const { body, shmFiles, shmBytes } = encodePayload(value, { zeroCopy });
    expect(shmFiles).toHaveLength(2);
    expect(shmBytes).toBe(4096 + 2048);
    expect(body.byteLength).toBeLessThan(200);
    expect(files().sort()).toEqual([...shmFiles].sort());
    expect(value.list[0]).toBe(blob); // the caller's value is not rewritten
    // Decoding reads each file and removes it (the host does this for Python's refs).
    const back = decode(body) as typeof value;
    expect(Buffer.compare(back.list[0] as Buffer, blob)).toBe(0);
    expect(back.tensor).toMatchObject({ dtype: 'float64', shape: [16, 16], order: 'F' });
    expect(back.tensor.data[255]).toBe(1.5);
    expect(files()).toEqual([]);
  });

  it('sends everything inline without zeroCopy', () => {
    const { shmFiles, body } = encodePayload({ b: Buffer.alloc(4096) }, {});
    expect(shmFiles).toEqual([]);
    expect(body.byteLength).toBeGreaterThan(4096);
  });

  it('refuses a payload over the limit before sending, naming size and limit, and removes its files', () => {
    const error = (() => {
      try {
        encodePayload({ a: Buffer.alloc(3000), b: Buffer.alloc(3000) }, { zeroCopy, maxPayloadBytes: 5000 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ code: 'payload_too_large', category: 'validation', details: { limitBytes: 5000, side: 'host' } });
    expect((error as PayloadTooLargeError).sizeBytes).toBeGreaterThan(6000);
    expect(files()).toEqual([]);
  });

  it('emits zero_copy telemetry for exports and imports', () => {
    const seen: string[] = [];
    attach('dp-test', ['snakepit.zero_copy.exported', 'snakepit.zero_copy.imported'], (event, m) => {
      seen.push(`${event}:${m.bytes}`);
    });
    try {
      decode(encodePayload(Buffer.alloc(2048), { zeroCopy }).body);
    } finally {
      detach('dp-test');
    }
    expect(seen).toEqual(['snakepit.zero_copy.exported:2048', 'snakepit.zero_copy.imported:2048']);
  });
});

describe('shared-memory references', () => {
  it('name only snakepit files', () => {
    const evil = encodePayload(Buffer.alloc(2048), { zeroCopy });
    const name = evil.shmFiles[0]!;
    const patched = Buffer.from(evil.body.toString('latin1').replace(name, '../'.repeat(name.length).slice(0, name.length)), 'latin1');
    expect(() => decode(patched)).toThrow(RangeError);
  });

  it('sweepShm removes the files it selects by run id and creator pid', () => {
    const mine = `${shmPrefix(RUN)}999999-1`;
    const other = `${shmPrefix('yy00000')}999999-1`;
    writeFileSync(join(SHM_DIR, mine), 'x');
    writeFileSync(join(SHM_DIR, other), 'x');
    try {
      expect(sweepShm((runId, pid) => runId === RUN && pid === 999999)).toEqual([mine]);
      expect(existsSync(join(SHM_DIR, other))).toBe(true);
    } finally {
      sweepShm((runId) => runId === 'yy00000');
    }
  });
});

describe('tensor layouts', () => {
  it('float16 carries raw half bits; toArray follows the order', () => {
    const half = new Tensor('float16', [2], new Uint16Array([0x3c00, 0x4000]));
    expect(decode(encodePayload(half, {}).body)).toMatchObject({ dtype: 'float16', data: new Uint16Array([0x3c00, 0x4000]) });
    const f = new Tensor('int32', [2, 3], new Int32Array([1, 4, 2, 5, 3, 6]), 'F');
    expect(f.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });
});
