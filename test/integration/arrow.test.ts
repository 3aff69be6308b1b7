// Arrow tables on real workers, on both transports: pyarrow Table/RecordBatch -> apache-arrow Table
// and back, inline and through /dev/shm (empty afterwards), and the paths without either library.
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { Table, tableFromArrays } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonError, telemetry, type Snakepit } from '../../src/index.js';
import { setArrowLoader } from '../../src/transport/arrow.js';
import { FIXTURES, startPool } from '../helpers/pool.js';

const ADAPTER = { adapter: 'arrow_adapter.ArrowAdapter' };
const LARGE_ROWS = 200_000; // ~6 MB of IPC: well over the threshold below

function shmFilesOf(sp: Snakepit): string[] {
  return readdirSync('/dev/shm').filter((n) => n.startsWith(`snakepit-${sp.runId}-`));
}

describe.each([false, true])('Arrow tables (zeroCopy %s)', (zeroCopy) => {
  let sp: Snakepit;
  const shmBytes: number[] = [];
  beforeAll(async () => {
    ({ sp } = await startPool(ADAPTER, { zeroCopy: { enabled: zeroCopy, thresholdBytes: 65_536 } }));
    telemetry.attach(`arrow-test-${zeroCopy}`, ['snakepit.zero_copy.exported', 'snakepit.zero_copy.imported'], (_e, m) => shmBytes.push(m.bytes));
  });
  afterAll(async () => {
    telemetry.detach(`arrow-test-${zeroCopy}`);
    await sp.stop();
  });

  it.each([false, true])('a pyarrow result arrives as an apache-arrow Table (RecordBatch %s)', async (batch) => {
    const t = (await sp.execute('make_table', { n: 3, batch })) as Table;
    expect(t).toBeInstanceOf(Table);
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'i:Int64',
      'f:Float64',
      's:Utf8',
      'z:Null',
      't:Timestamp<MILLISECOND, UTC>',
      'd:Dictionary<Int32, Utf8>',
    ]);
    expect([...t.getChild('i')!]).toEqual([0n, 1n, 2n]);
    expect([...t.getChild('f')!]).toEqual([null, 0.5, 1]);
    expect([...t.getChild('s')!]).toEqual(['row0', 'row1', 'row2']);
    expect([...t.getChild('z')!]).toEqual([null, null, null]);
    expect([...t.getChild('t')!]).toEqual([0, 1000, 2000].map((ms) => Date.UTC(2024, 4, 1) + ms));
    expect([...t.getChild('d')!]).toEqual(['red', 'green', 'red']);
  });

  it('an apache-arrow Table argument arrives as a pyarrow.Table', async () => {
    const t = tableFromArrays({ x: new Float64Array([1.5, 2.5]), s: ['a', 'b'] }); // strings: a dictionary column
    expect(await sp.execute('describe_table', { value: t })).toEqual({
      type: 'Table',
      schema: ['x:double', 's:dictionary<values=string, indices=int32, ordered=0>'],
      rows: 2,
      first: [{ x: 1.5, s: 'a' }],
      last_s: 'b',
    });
  });

  it(`a large table goes Python -> Node -> Python -> Node ${zeroCopy ? 'through /dev/shm' : 'inline'} and leaves /dev/shm empty`, async () => {
    shmBytes.length = 0;
    const t = (await sp.execute('make_table', { n: LARGE_ROWS })) as Table;
    expect(t.numRows).toBe(LARGE_ROWS);
    expect(t.getChild('s')!.get(LARGE_ROWS - 1)).toBe(`row${LARGE_ROWS - 1}`);
    const seen = (await sp.execute('describe_table', { value: t })) as Record<string, unknown>;
    expect(seen).toMatchObject({ type: 'Table', rows: LARGE_ROWS, last_s: `row${LARGE_ROWS - 1}` });
    const back = (await sp.execute('echo_value', { value: t })) as Table;
    expect(back).toBeInstanceOf(Table);
    expect(back.getChild('t')!.get(LARGE_ROWS - 1)).toBe(Date.UTC(2024, 4, 1) + (LARGE_ROWS - 1) * 1000);
    // Through shm: imported (Python -> Node, twice) and exported (Node -> Python, twice), each MBs.
    if (zeroCopy) expect(shmBytes.filter((b) => b > 1_000_000)).toHaveLength(4);
    else expect(shmBytes).toEqual([]);
    expect(shmFilesOf(sp)).toEqual([]);
  });
});

describe('host without apache-arrow (loader injected to fail before start)', () => {
  let sp: Snakepit;
  beforeAll(async () => {
    setArrowLoader(() => Promise.reject(new Error("Cannot find package 'apache-arrow'")));
    ({ sp } = await startPool(ADAPTER, { zeroCopy: { enabled: true, thresholdBytes: 65_536 } }));
  });
  afterAll(async () => {
    await sp.stop();
    setArrowLoader(undefined);
  });

  it('a table result fails that call with arrow_unavailable naming apache-arrow; the worker keeps serving', async () => {
    for (const n of [3, LARGE_ROWS]) {
      const error = await sp.execute('make_table', { n }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PythonError);
      expect([(error as PythonError).code, (error as PythonError).details.package]).toEqual(['arrow_unavailable', 'apache-arrow']);
    }
    expect(await sp.execute('has_pyarrow')).toBe(true);
    expect(shmFilesOf(sp)).toEqual([]);
  });
});

describe('worker without pyarrow (a stand-in package that fails to import)', () => {
  let sp: Snakepit;
  beforeAll(async () => {
    ({ sp } = await startPool({ ...ADAPTER, pythonPath: [path.join(FIXTURES, 'no_pyarrow'), FIXTURES] }));
  });
  afterAll(() => sp.stop());

  it('a table argument fails the tool that uses it with arrow_unavailable naming pyarrow; passed back, it arrives intact', async () => {
    expect(await sp.execute('has_pyarrow')).toBe(false);
    const t = tableFromArrays({ x: new Int32Array([4, 5, 6]) });
    const error = await sp.execute('describe_table', { value: t }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PythonError);
    expect([(error as PythonError).code, (error as PythonError).details.package]).toEqual(['arrow_unavailable', 'pyarrow']);
    const back = (await sp.execute('echo_value', { value: t })) as Table;
    expect(back).toBeInstanceOf(Table);
    expect([...back.getChild('x')!]).toEqual([4, 5, 6]);
  });
});
