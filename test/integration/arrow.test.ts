// Arrow tables on real workers: pyarrow.Table/RecordBatch -> apache-arrow Table and back, inline
// and through shared memory, on both transports.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { startPool } from '../helpers/pool.js';

let arrow: typeof import('apache-arrow') | undefined;
try {
  arrow = await import('apache-arrow');
} catch {
  arrow = undefined;
}
function hasPyarrow(): boolean {
  try {
    execFileSync('.venv/bin/python', ['-c', 'import pyarrow'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const ready = arrow !== undefined && hasPyarrow();

describe.skipIf(!ready).each([false, true])('arrow (zeroCopy %s; needs apache-arrow and pyarrow)', (zeroCopy) => {
  let sp: Snakepit;
  beforeAll(async () => {
    ({ sp } = await startPool({ adapter: 'data_adapter.DataAdapter' }, { zeroCopy: { enabled: zeroCopy, thresholdBytes: 4096 } }));
  });
  afterAll(() => sp.stop());

  it.each([false, true])('a pyarrow table arrives as an apache-arrow Table (batch %s)', async (batch) => {
    const t = (await sp.execute('make_arrow', { n: 3, batch })) as import('apache-arrow').Table;
    expect(t).toBeInstanceOf(arrow!.Table);
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['i:Int64', 'f:Float64', 's:Utf8', 'b:Bool', 'z:Null']);
    expect(t.numRows).toBe(3);
    expect([...t.getChild('i')!]).toEqual([0n, 1n, 2n]);
    expect([...t.getChild('f')!]).toEqual([0, 0.5, 1]);
    expect([...t.getChild('s')!]).toEqual(['row0', 'row1', 'row2']);
    expect([...t.getChild('b')!]).toEqual([true, false, true]);
    expect([...t.getChild('z')!]).toEqual([null, null, null]);
  });

  it('a large table goes Python -> Node -> Python -> Node (shared memory when on) and leaves /dev/shm empty', async () => {
    const t = (await sp.execute('make_arrow', { n: 20000 })) as import('apache-arrow').Table;
    expect(t.numRows).toBe(20000);
    const seen = await sp.execute('describe_arrow', { value: t });
    expect(seen).toEqual({ type: 'Table', schema: ['i:int64', 'f:double', 's:string', 'b:bool', 'z:null'], rows: 20000, first: [{ i: 0, f: 0, s: 'row0', b: true, z: null }] });
    const back = (await sp.execute('echo_value', { value: t })) as import('apache-arrow').Table;
    expect(back.numRows).toBe(20000);
    expect(back.getChild('s')!.get(19999)).toBe('row19999');
    expect(readdirSync('/dev/shm').filter((n) => n.startsWith(`snakepit-${sp.runId}-`))).toEqual([]);
  });
});
