// Arrow tables in the codec (ext 4, and ext 3 with dtype arrow.stream) and the absence of the
// optional apache-arrow package (simulated by injecting the loader).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { unpack } from 'msgpackr';
import { Dictionary, Int32, Table, tableFromArrays, tableFromIPC, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArrowUnavailableError, isSnakepitError } from '../../../src/errors.js';
import { ARROW_EXT_TYPE, ARROW_SHM_DTYPE, ArrowIPC, loadArrow, setArrowLoader } from '../../../src/transport/arrow.js';
import { decode, encode, encodePayload } from '../../../src/transport/codec.js';
import { dataPlaneEnv } from '../../../src/transport/data-plane.js';
import { SHM_DIR, shmAvailable } from '../../../src/transport/shm.js';
import { Tensor } from '../../../src/tensor.js';

const RUN_ID = 'arrowt1';
const dataPlane = { zeroCopy: { enabled: true, thresholdBytes: 4096 }, maxPayloadBytes: 1 << 28, serialization: 'graceful' as const };

/** Every kind of column the guide promises: ints, floats with nulls, strings, null, timestamps, dictionary. */
function sample(n = 3): Table {
  const when = Date.UTC(2024, 4, 1);
  return new Table({
    i: vectorFromArray(Array.from({ length: n }, (_, k) => k), new Int32()),
    f: vectorFromArray(Array.from({ length: n }, (_, k) => (k % 3 ? k / 2 : null))),
    s: vectorFromArray(Array.from({ length: n }, (_, k) => `r${k}`), new Utf8()),
    z: vectorFromArray(Array.from({ length: n }, () => null)),
    t: vectorFromArray(Array.from({ length: n }, (_, k) => when + k * 1000), new TimestampMillisecond()),
    d: vectorFromArray(Array.from({ length: n }, (_, k) => ['a', 'b'][k % 2]!), new Dictionary(new Utf8(), new Int32())),
  });
}

/** Type and body of the msgpack ext value that is all of `bytes` (msgpackr's own unpack would decode it). */
function extOf(bytes: Uint8Array): { type: number; data: Uint8Array } {
  const fixed: Record<number, number> = { 0xd4: 1, 0xd5: 2, 0xd6: 4, 0xd7: 8, 0xd8: 16 };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const marker = bytes[0]!;
  const [length, header] =
    marker in fixed ? [fixed[marker]!, 1]
    : marker === 0xc7 ? [view.getUint8(1), 2]
    : marker === 0xc8 ? [view.getUint16(1), 3]
    : marker === 0xc9 ? [view.getUint32(1), 5]
    : [NaN, 0];
  expect(bytes.byteLength).toBe(header + 1 + length);
  return { type: view.getInt8(header), data: bytes.subarray(header + 1) };
}

function rows(t: Table): unknown[] {
  return t.toArray().map((r) => ({ ...r.toJSON() }));
}

beforeEach(async () => {
  setArrowLoader(undefined);
  await loadArrow();
});
afterEach(() => setArrowLoader(undefined));

describe('with apache-arrow loaded', () => {
  it('a Table goes as ext 4 whose body is a plain IPC stream, and decodes to an instanceof Table', () => {
    const t = sample();
    const raw = extOf(encode(t));
    expect(raw.type).toBe(ARROW_EXT_TYPE);
    expect(rows(tableFromIPC(raw.data))).toEqual(rows(t));
    const back = (decode(encode({ t })) as { t: Table }).t;
    expect(back).toBeInstanceOf(Table);
    expect(back.schema.fields.map((f) => String(f.type))).toEqual(t.schema.fields.map((f) => String(f.type)));
    expect(rows(back)).toEqual(rows(t));
    expect(back.getChild('f')!.nullCount).toBe(1);
    expect(back.getChild('z')!.nullCount).toBe(3);
  });

  it('a RecordBatch goes as a table of one batch', () => {
    const t = tableFromArrays({ x: new Int32Array([7, 8, 9]) });
    const back = decode(encode(t.batches[0])) as Table;
    expect(back).toBeInstanceOf(Table);
    expect([...back.getChild('x')!]).toEqual([7, 8, 9]);
  });

  it('an empty table keeps its schema', () => {
    const back = decode(encode(sample(0))) as Table;
    expect(back.numRows).toBe(0);
    expect(back.schema.names).toEqual(['i', 'f', 's', 'z', 't', 'd']);
  });

  it.runIf(shmAvailable())('a large table goes through /dev/shm as ext 3 (dtype arrow.stream); decoding removes the file', () => {
    const t = sample(5000);
    const zeroCopy = { thresholdBytes: 4096, runId: RUN_ID };
    const small = encodePayload(sample(2), { zeroCopy });
    expect([small.shmFiles, extOf(small.body).type]).toEqual([[], ARROW_EXT_TYPE]);
    const { body, shmFiles, shmBytes } = encodePayload(t, { zeroCopy });
    expect(shmFiles).toHaveLength(1);
    const raw = extOf(body);
    expect(raw.type).toBe(3);
    expect((unpack(raw.data) as unknown[]).slice(1, 3)).toEqual([shmBytes, ARROW_SHM_DTYPE]);
    const back = decode(body) as Table;
    expect(back).toBeInstanceOf(Table);
    expect(rows(back)).toEqual(rows(t));
    expect(existsSync(join(SHM_DIR, shmFiles[0]!))).toBe(false);
  });

  it('counts a table against maxPayloadBytes before anything is sent', () => {
    expect(() => encodePayload(sample(5000), { maxPayloadBytes: 1000 })).toThrow(expect.objectContaining({ code: 'payload_too_large' }));
  });

  it('the worker env says the host has apache-arrow', () => {
    expect(dataPlaneEnv(dataPlane, RUN_ID).SNAKEPIT_HOST_ARROW).toBe('1');
  });

  it('tensors are still written straight into the frame, whatever the ext header size', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, k) => k);
      for (const order of ['C', 'F'] as const) {
        const back = decode(encode([new Tensor('uint8', [n], bytes, order), 'after'])) as [Tensor, string];
        expect([...back[0].bytes]).toEqual([...bytes]);
        expect(back[0].order).toBe(order);
        expect(back[1]).toBe('after');
      }
    }
  });
});

describe('without apache-arrow (loader injected to fail)', () => {
  beforeEach(async () => {
    const ipc = encode(sample()); // made while it is still loaded
    setArrowLoader(() => Promise.reject(Object.assign(new Error("Cannot find package 'apache-arrow'"), { code: 'ERR_MODULE_NOT_FOUND' })));
    expect(await loadArrow()).toBeNull();
    held = decode(ipc);
  });
  let held: unknown;

  it('a received table becomes an ArrowIPC holding the IPC stream (no throw: the frame and the call survive)', () => {
    expect(held).toBeInstanceOf(ArrowIPC);
    expect(rows(tableFromIPC((held as ArrowIPC).bytes))).toEqual(rows(sample()));
  });

  it('ArrowIPC.table() rejects with arrow_unavailable naming the package', async () => {
    const error = await (held as ArrowIPC).table().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArrowUnavailableError);
    expect(isSnakepitError(error) && [error.code, error.details.package]).toEqual(['arrow_unavailable', 'apache-arrow']);
  });

  it('an ArrowIPC goes back unchanged', () => {
    const raw = extOf(encode(held));
    expect(raw.type).toBe(ARROW_EXT_TYPE);
    expect([...raw.data]).toEqual([...(held as ArrowIPC).bytes]);
  });

  it('encoding a Table fails with arrow_unavailable, nothing left in /dev/shm', () => {
    expect(() => encodePayload({ t: sample(5000) }, { zeroCopy: { thresholdBytes: 4096, runId: RUN_ID } })).toThrow(expect.objectContaining({ code: 'arrow_unavailable' }));
    expect(() => encode(sample())).toThrow(ArrowUnavailableError);
    expect(shmAvailable() ? readdirSync(SHM_DIR).filter((n) => n.startsWith(`snakepit-${RUN_ID}-`)) : []).toEqual([]);
  });

  it('the worker env tells Python the host has no apache-arrow', () => {
    expect(dataPlaneEnv(dataPlane, RUN_ID).SNAKEPIT_HOST_ARROW).toBe('0');
  });
});

it('before loadArrow settles, the worker env says nothing about Arrow', () => {
  setArrowLoader(() => new Promise(() => {}));
  void loadArrow();
  expect(dataPlaneEnv(dataPlane, RUN_ID)).not.toHaveProperty('SNAKEPIT_HOST_ARROW');
});
