/**
 * Data-plane benchmark (issue 10): a 64 MiB float64 tensor, an 8 MiB Buffer and a 64 MiB Arrow table
 * (when apache-arrow is installed) echoed (there and back) per transport, inline and through /dev/shm
 * (`zeroCopy`), beside the raw pipe + msgpack echo floor, with throughput in GB/s (bytes moved both
 * ways / median round trip). The table's floor moves its IPC stream (ext 4) through the raw echo.
 *
 * `node dist/bench/data-plane.js` runs it alone; `dataPlaneSection` plugs into bench/run.ts
 * (same `{ id, title, run() }` shape as bench/sections/*). BENCH_DP_ROUNDS sets round trips per
 * measure (default 7).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Snakepit, Tensor, type SnakepitConfigInput } from '../src/index.js';
import { loadArrow } from '../src/transport/arrow.js';
import { RawEcho } from './raw-floor.js';
import { benchDir, median, python, type Row } from './sections/common.js';

const ROUNDS = Number(process.env.BENCH_DP_ROUNDS ?? 7);
/** One result line (bench/sections/common.ts's `Row`). */
export type DataPlaneRow = Row;

async function timeEcho(call: () => Promise<unknown>): Promise<number> {
  await call(); // warm-up: page faults of first use, numpy import
  const ms: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await call();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

async function snakepitEcho(transport: 'pipe' | 'grpc', zeroCopy: boolean, value: unknown): Promise<number> {
  const config = {
    logLevel: 'error',
    zeroCopy: { enabled: zeroCopy },
    maxPayloadBytes: 1024 * 1024 * 1024,
    pools: [{ name: 'default', poolSize: 1, transport, adapter: 'bench_adapter.BenchAdapter', pythonPath: [path.join(benchDir, 'python')] }],
  } as SnakepitConfigInput;
  const sp = await Snakepit.start(config, { handleSignals: false });
  try {
    return await timeEcho(() => sp.execute('echo', { value }));
  } finally {
    await sp.stop();
  }
}

async function rawEcho(value: unknown): Promise<number> {
  const raw = new RawEcho(python, benchDir);
  try {
    return await timeEcho(() => raw.call(value));
  } finally {
    raw.close();
  }
}

/** `rows` rows of int64 and float64 columns (16 bytes a row) and their IPC size; undefined without apache-arrow. */
async function arrowTable(rows: number): Promise<{ value: unknown; bytes: number } | undefined> {
  if (!(await loadArrow())) return undefined; // the codec needs it loaded, as Snakepit.start does
  const { tableFromArrays, tableToIPC } = await import('apache-arrow');
  const value = tableFromArrays({ id: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i)), x: Float64Array.from({ length: rows }, (_, i) => i / 2) });
  return { value, bytes: tableToIPC(value, 'stream').byteLength };
}

function row(measure: string, unit: string, floor: number, value: number, target?: string, met?: boolean): DataPlaneRow {
  return { section: 'data-plane', measure, unit, against: 'raw pipe', floor, value, ratio: value / floor, ...(target ? { target, met } : {}) };
}

/** Runs every measure; rows give ms (p50) and GB/s (higher is better: floor/ours ratio inverted). */
export async function runDataPlane(): Promise<DataPlaneRow[]> {
  const data = new Float64Array(8 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = i;
  const payloads: { label: string; value: unknown; bytes: number; tensor?: boolean }[] = [
    { label: '64 MiB float64 tensor', value: new Tensor('float64', [2048, 4096], data), bytes: data.byteLength, tensor: true },
    { label: '8 MiB bytes', value: Buffer.alloc(8 * 1024 * 1024, 7), bytes: 8 * 1024 * 1024 },
  ];
  const table = await arrowTable(4 * 1024 * 1024);
  if (table) payloads.push({ label: '64 MiB Arrow table', ...table }); // 4M rows of int64 + float64
  const rows: DataPlaneRow[] = [];
  for (const p of payloads) {
    const floor = await rawEcho(p.value);
    const gbps = (ms: number) => (2 * p.bytes) / (ms / 1000) / 1e9;
    for (const transport of ['pipe', 'grpc'] as const) {
      for (const zc of [false, true]) {
        const ms = await snakepitEcho(transport, zc, p.value);
        const name = `${p.label} echo, ${transport}, ${zc ? 'zeroCopy' : 'inline'}`;
        rows.push(row(`${name} p50`, 'ms', floor, ms));
        const isTensorTarget = p.tensor === true && zc;
        rows.push(row(`${name} throughput`, 'GB/s', gbps(floor), gbps(ms), isTensorTarget ? '>= 1 GB/s' : undefined, isTensorTarget ? gbps(ms) >= 1 : undefined));
      }
    }
  }
  return rows;
}

/** For bench/run.ts's SECTIONS list. */
export const dataPlaneSection = {
  id: 'data-plane',
  title: 'data plane: 64 MiB tensor, 8 MiB bytes and a 64 MiB Arrow table, inline vs zeroCopy (floor: raw pipe + msgpack echo)',
  run: runDataPlane,
};

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const fmt = (v: number) => v.toFixed(v < 10 ? 2 : 1);
  console.log(`snakepit data-plane bench — Node ${process.version}, ${python}, median of ${ROUNDS}`);
  for (const r of await runDataPlane()) {
    console.log(`${`${r.measure} (${r.unit})`.padEnd(64)}floor ${fmt(r.floor).padStart(8)}  ours ${fmt(r.value).padStart(8)}  ratio ${r.ratio.toFixed(2)}${r.target ? `  target ${r.target}: ${r.met ? 'met' : 'MISSED'}` : ''}`);
  }
}
