/**
 * `npx tsx bench/encode-call.ts`: ns per encode of a call frame: msgpackr's bare `pack` (same
 * options), our `encodePayload` (with the checks for values that cannot cross: a try block, and
 * for frames over 1024 bytes the nesting walk), and that walk alone. The three rotate within each
 * round; the median of 15 rounds. Frames: a typical small call, ~2.5 KB of records, 10k numbers.
 */
import { Packr } from 'msgpackr';
import { encodePayload } from '../src/transport/codec.js';
import { MAX_NESTING_DEPTH, nestsDeeperThan } from '../src/transport/encodable.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const bare = new Packr({ useRecords: false, int64AsType: 'auto' as 'bigint', useBigIntExtension: true, encodeUndefinedAsNil: true, mapsAsObjects: true });

const frame = (args: Record<string, unknown>) => ({ t: 'call', id: 12345, tool: 'predict', args, session: null, meta: null, corr: '3f2a9c1e-0000-4000-8000-000000000001', stream: false });
const FRAMES: [string, ReturnType<typeof frame>, number][] = [
  ['small call {a, b}', frame({ a: 10, b: 25 }), 100_000],
  ['60 records', frame({ rows: Array.from({ length: 60 }, (_, i) => ({ id: i, name: `user-${i}`, score: i * 1.5, tags: ['a', 'b'] })) }), 5_000],
  ['10k numbers', frame({ values: Array.from({ length: 10_000 }, (_, i) => i * 0.5) }), 300],
];

function time(fn: () => unknown, n: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - start) / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const [label, value, n] of FRAMES) {
  const runs = { bare: () => bare.pack(value), ours: () => encodePayload(value, {}, 'args'), walk: () => nestsDeeperThan(value, MAX_NESTING_DEPTH) };
  const times: Record<keyof typeof runs, number[]> = { bare: [], ours: [], walk: [] };
  for (const fn of Object.values(runs)) time(fn, n); // warm-up
  for (let r = 0; r < ROUNDS; r++) for (const [name, fn] of Object.entries(runs)) times[name as keyof typeof runs].push(time(fn, n));
  const [b, o, w] = [median(times.bare), median(times.ours), median(times.walk)];
  const bytes = bare.pack(value).byteLength;
  console.log(`${label.padEnd(18)} ${String(bytes).padStart(6)} B  bare pack ${b.toFixed(0).padStart(7)} ns  encodePayload ${o.toFixed(0).padStart(7)} ns (x${(o / b).toFixed(2)})  walk alone ${w.toFixed(0).padStart(6)} ns`);
}
