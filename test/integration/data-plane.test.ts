// The data plane on real workers: tensors of every dtype and order, graceful values, payload
// limits, and shared memory for large payloads (nothing left in /dev/shm, also after kill -9).
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayloadTooLargeError, Tensor, ZeroCopyRef, type Snakepit, type TensorDType } from '../../src/index.js';
import { startPool, waitForFullPool } from '../helpers/pool.js';
import { recordTelemetry } from '../helpers/telemetry.js';

const DTYPES: TensorDType[] = ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool'];
const MB64 = 8 * 1024 * 1024; // float64 elements in 64 MiB

function shmFilesOf(sp: Snakepit): string[] {
  return readdirSync('/dev/shm').filter((n) => n.startsWith(`snakepit-${sp.runId}-`));
}

function big(): Tensor<'float64'> {
  const data = new Float64Array(MB64);
  for (let i = 0; i < data.length; i += 4096) data[i] = i;
  return new Tensor('float64', [2048, 4096], data);
}

describe.each([false, true])('data plane (zeroCopy %s)', (zeroCopy) => {
  let sp: Snakepit;
  beforeAll(async () => {
    ({ sp } = await startPool({ adapter: 'data_adapter.DataAdapter' }, { zeroCopy: { enabled: zeroCopy }, maxPayloadBytes: 128 * 1024 * 1024 }));
  });
  afterAll(() => sp.stop());

  it.each(DTYPES)('%s arrays in C and Fortran order arrive as typed-array views and go back', async (dtype) => {
    const c = (await sp.execute('make_array', { dtype, shape: [3, 4, 5], order: 'C' })) as Tensor;
    const f = (await sp.execute('make_array', { dtype, shape: [3, 4, 5], order: 'F' })) as Tensor;
    expect([c.dtype, c.order, f.order]).toEqual([dtype, 'C', 'F']);
    expect(c.shape).toEqual([3, 4, 5]);
    expect(f.toArray()).toEqual(c.toArray());
    const back = (await sp.execute('describe', { value: f })) as Record<string, unknown>;
    expect(back).toMatchObject({ type: 'ndarray', dtype, shape: [3, 4, 5], f: true, c: false });
    expect(await sp.execute('describe', { value: c })).toMatchObject({ c: true, sum: back.sum });
  });

  it('moves a 64 MiB float64 tensor both ways and leaves /dev/shm empty', async () => {
    const t = big();
    const back = (await sp.execute('echo_value', { value: t })) as Tensor;
    expect(back.dtype).toBe('float64');
    expect(back.shape).toEqual([2048, 4096]);
    expect(back.data.length).toBe(MB64);
    expect(back.data[4096 * 100]).toBe(4096 * 100);
    const seen = (await sp.execute('describe', { value: t })) as Record<string, unknown>;
    // Through shared memory numpy views the mapping (owns no data); inline it views the frame.
    expect(seen).toMatchObject({ type: 'ndarray', owns: false });
    expect(shmFilesOf(sp)).toEqual([]);
  });

  it('echoes large args byte for byte, beside small calls sent in the same tick', async () => {
    // Over the pipe, args past COMPACT_ARGS_COPY_LIMIT leave in parts around their own bytes.
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 5);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 11)) & 0xff;
    const [back, small, text] = await Promise.all([
      sp.execute('echo_value', { value: bytes }, { correlationId: 'large-args' }),
      sp.execute('echo_value', { value: 'small' }),
      sp.execute('echo_value', { value: 'é'.repeat(40_000) }),
    ]);
    expect(Buffer.isBuffer(back) && back.equals(bytes)).toBe(true);
    expect([small, text]).toEqual(['small', 'é'.repeat(40_000)]);
  });

  // The worker tunes glibc's malloc (process.tune_malloc): buffers of a few MiB are reused, not
  // mapped and zero-filled again on every call (~2,000 page faults per 8 MiB buffer before).
  it.skipIf(zeroCopy || process.platform !== 'linux')('echoes 8 MiB calls without fresh pages in the worker for each', async () => {
    const value = Buffer.alloc(8 * 1024 * 1024, 7);
    const pid = sp.listWorkers()[0]!.pid!;
    const minorFaults = () => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[7]);
    for (let i = 0; i < 3; i++) await sp.execute('echo_value', { value }); // the heap grows to its size once
    const before = minorFaults();
    for (let i = 0; i < 5; i++) expect(((await sp.execute('echo_value', { value })) as Buffer).length).toBe(value.length);
    // Untuned: ~6,100 per call, three fresh 8 MiB buffers of 2,048 pages each; tuned, a few hundred.
    expect((minorFaults() - before) / 5).toBeLessThan(2048);
  });

  it('maps datetimes, decimals, UUIDs, sets, dataclasses, numpy scalars; marks the rest', async () => {
    expect(await sp.execute('odd_values')).toEqual({
      reading: { when: '2024-01-02T03:04:05', amount: '2.50' },
      id: '00000000-0000-0000-0000-00000000002a',
      tags: ['x'],
      scalar: 1.5,
      opaque: { __snakepit_unserializable__: true, type: 'data_adapter.Opaque', repr: '<Opaque thing>' },
    });
  });

  it('refuses a payload over maxPayloadBytes on either side before sending it', async () => {
    const tooBig = Buffer.alloc(129 * 1024 * 1024);
    const sent = await sp.execute('echo_value', { value: tooBig }).catch((e: unknown) => e);
    expect(sent).toBeInstanceOf(PayloadTooLargeError);
    expect(sent).toMatchObject({ code: 'payload_too_large', details: { limitBytes: 128 * 1024 * 1024, side: 'host' } });
    expect((sent as PayloadTooLargeError).sizeBytes).toBeGreaterThan(129 * 1024 * 1024);
    const received = await sp.execute('make_bytes', { n: 129 * 1024 * 1024 }).catch((e: unknown) => e);
    expect(received).toMatchObject({ code: 'payload_too_large', details: { limitBytes: 128 * 1024 * 1024, side: 'python' } });
    expect(await sp.execute('pid')).toEqual(expect.any(Number)); // the worker lives on
    expect(shmFilesOf(sp)).toEqual([]);
  });

  it(`sends one sp.zeroCopy() ref to many calls until it is closed (${zeroCopy ? 'shared memory' : 'the fallback: a copy, inline'})`, async () => {
    const t = new Tensor('int32', [4, 1024], new Int32Array(4096).fill(2));
    const fallbacks = recordTelemetry(['snakepit.zero_copy.fallback']);
    const ref = sp.zeroCopy(t);
    fallbacks.stop();
    expect(ref).toBeInstanceOf(ZeroCopyRef);
    expect(ref).toMatchObject({ device: 'cpu', owner: 'host', copy: !zeroCopy, size: 4096 * 4 });
    expect(fallbacks.seen).toEqual(zeroCopy ? [] : [{ event: 'snakepit.zero_copy.fallback', measurements: { bytes: 4096 * 4 }, metadata: { reason: 'disabled' } }]);
    t.data.fill(7); // both forms hold what the value was when the ref was made
    const echoed = (await Promise.all([1, 2].map(() => sp.execute('echo_value', { value: { nested: [ref] } })))) as { nested: Tensor[] }[];
    for (const e of echoed) expect(e.nested[0]).toMatchObject({ dtype: 'int32', shape: [4, 1024], order: 'C' });
    // Over shared memory Python maps the file (owns: false); a copy arrives like any inline tensor.
    expect(await sp.execute('describe', { value: ref })).toMatchObject({ type: 'ndarray', dtype: 'int32', shape: [4, 1024], sum: 8192, ...(zeroCopy ? { owns: false } : {}) });
    expect(await sp.execute('describe', { value: ref })).toMatchObject({ sum: 8192 }); // still there
    expect(shmFilesOf(sp)).toEqual(zeroCopy ? [ref.name] : []);
    ref.close();
    expect(shmFilesOf(sp)).toEqual([]);
    expect(await sp.execute('describe', { value: ref }).catch((e: unknown) => e)).toMatchObject({ code: 'invalid_argument' });
  });

  it('leaves nothing in /dev/shm when the worker is killed mid-transfer', async () => {
    const pid = await sp.execute('pid');
    expect(await sp.execute('die_mid_transfer', { n: 4 * 1024 * 1024 }).catch((e: unknown) => e)).toMatchObject({ code: 'worker_crashed' });
    await waitForFullPool(sp, 1);
    expect(await sp.execute('die_with', { value: big() }).catch((e: unknown) => e)).toMatchObject({ code: 'worker_crashed' });
    await waitForFullPool(sp, 1);
    expect(await sp.execute('pid')).not.toBe(pid);
    expect(shmFilesOf(sp)).toEqual([]);
  });
});

describe('serialization policy strict', () => {
  let sp: Snakepit;
  beforeAll(async () => {
    ({ sp } = await startPool({ adapter: 'data_adapter.DataAdapter' }, { serialization: 'strict' }));
  });
  afterAll(() => sp.stop());

  it('fails a result with an unserializable value', async () => {
    expect(await sp.execute('odd_values').catch((e: unknown) => e)).toMatchObject({ code: 'unserializable' });
  });
});
