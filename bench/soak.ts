/**
 * `npm run soak -- --minutes N`: a bounded load (execute, streams, sessions, host-tool calls; process
 * and thread profiles; pipe and gRPC transports) while a chaos loop SIGKILLs, SIGSTOPs (the heartbeat
 * must kill the stopped worker) and memory-bloats (memoryThresholdMb must recycle it) random workers.
 * At the end it checks: every request got exactly one outcome (success or a typed SnakepitError; none
 * lost, none duplicated, tracked per request id), no Python process of this run left (/proc scan for
 * the run id), no /dev/shm file named with the run id, host RSS and open fds back near the start.
 * Prints ONE summary line; exit code 1 if a check fails. Run with `node --expose-gc` for the RSS check.
 * SOAK_TELEMETRY=all attaches a handler on every telemetry event for the whole run (the workers then send their own
 * python.call.* events, carried in the answers over the pipe); the run then also fails if none arrived.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { isSnakepitError, Snakepit, telemetry, type SnakepitConfigInput } from '../src/index.js';
import { packageRoot } from '../src/python/runtime.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const MINUTES = Number(arg('--minutes') ?? process.env.SOAK_MINUTES ?? 2);
const LANES = Number(process.env.SOAK_LANES ?? 12);
const CHAOS_MS = Number(process.env.SOAK_CHAOS_MS ?? 800);
const RSS_SLACK_MB = Number(process.env.SOAK_RSS_SLACK_MB ?? 80);
const FD_SLACK = Number(process.env.SOAK_FD_SLACK ?? 4);
const OBSERVED = process.env.SOAK_TELEMETRY === 'all';
const CALL_TIMEOUT_MS = 15_000;
const SETTLE_MS = 60_000;

const benchPython = path.join(packageRoot(), 'bench', 'python');
const POOLS = [
  { name: 'proc-pipe', workerProfile: 'process', transport: 'pipe' },
  { name: 'proc-grpc', workerProfile: 'process', transport: 'grpc' },
  { name: 'thread-pipe', workerProfile: 'thread', transport: 'pipe' },
  { name: 'thread-grpc', workerProfile: 'thread', transport: 'grpc' },
] as const;

const config = {
  logLevel: 'error',
  heartbeat: { pingIntervalMs: 200, timeoutMs: 500, maxMissedHeartbeats: 2 },
  pools: POOLS.map((p) => ({
    ...p,
    poolSize: 2,
    threadsPerWorker: 4,
    adapter: 'soak_adapter.SoakAdapter',
    pythonPath: [benchPython],
    memoryThresholdMb: 100,
    lifecycleCheckIntervalMs: 500,
    gracefulShutdownTimeoutMs: 1_000,
  })),
} as SnakepitConfigInput;

const rssMb = () => process.memoryUsage().rss / 1024 / 1024;
/** JS heap in use (after a gc: live objects), beside rss: a leak grows both, retained free pages only rss. */
const heapMb = () => process.memoryUsage().heapUsed / 1024 / 1024;
const fdCount = () => readdirSync('/proc/self/fd').length;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gc = async () => {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await sleep(100);
  }
};

/**
 * How many outcomes each request got (must end at exactly 1), by id (1, 2, ...): one byte each, so
 * the ledger stays out of the heap and rss checks (a Map of ~500k ids held ~25 MB of heap).
 */
class OutcomeLedger {
  #counts = new Uint8Array(1 << 16);
  #size = 0;

  /** A new request's id. */
  add(): number {
    const id = ++this.#size;
    if (id >= this.#counts.length) {
      const grown = new Uint8Array(this.#counts.length * 2);
      grown.set(this.#counts);
      this.#counts = grown;
    }
    return id;
  }

  /** Counts one outcome of `id` (saturating at 255); returns how many it has had. */
  settle(id: number): number {
    const n = Math.min(255, this.#counts[id]! + 1);
    this.#counts[id] = n;
    return n;
  }

  get size(): number {
    return this.#size;
  }

  /** Requests with no outcome. */
  lost(): number {
    let n = 0;
    for (let id = 1; id <= this.#size; id++) if (this.#counts[id] === 0) n++;
    return n;
  }
}

const outcomes = new OutcomeLedger();
const counts = { ok: 0, typed: 0, untyped: 0, duplicated: 0, lateChunks: 0, chunks: 0 };
const byKind = new Map<string, number>();
const untypedSamples: string[] = [];

async function tracked(kind: string, run: () => Promise<unknown>): Promise<void> {
  const id = outcomes.add();
  byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  const settle = (ok: boolean, error?: unknown) => {
    if (outcomes.settle(id) > 1) return void counts.duplicated++;
    if (ok) counts.ok++;
    else if (isSnakepitError(error)) counts.typed++;
    else {
      counts.untyped++;
      if (untypedSamples.length < 3) untypedSamples.push(`${kind}: ${String(error)}`);
    }
  };
  await run().then(
    () => settle(true),
    (error: unknown) => settle(false, error),
  );
}

/** Python processes whose command line carries the run id. */
function processesOf(runId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(runId)) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

function processState(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
  } catch {
    return undefined;
  }
}

const shmFilesOf = (runId: string) => {
  try {
    return readdirSync('/dev/shm').filter((f) => f.includes(runId));
  } catch {
    return [];
  }
};

await gc();
const startRss = rssMb();
const startHeap = heapMb();
const startFds = fdCount();
const startFdList = readdirSync('/proc/self/fd');
const hardStop = setTimeout(() => {
  console.log(`soak: FAIL (did not finish within ${MINUTES + 3} min)`);
  process.exit(1);
}, (MINUTES + 3) * 60_000);
hardStop.unref();

const observed = { events: 0, pythonCallStops: 0 };
if (OBSERVED) {
  telemetry.attach('soak', telemetry.events(), (event) => {
    observed.events++;
    if (event === 'snakepit.python.call.stop') observed.pythonCallStops++;
  });
}
const sp = await Snakepit.start(config, { handleSignals: false });
const runId = sp.runId;
const saved: unknown[] = [];
sp.registerTool('validate_schema', ({ data }) => (Array.isArray(data) && data.every((x) => typeof x === 'number') ? { valid: true } : { valid: false, errors: ['numbers only'] }), {
  exposedToPython: true,
  parameters: [{ name: 'data', type: 'any', required: true }],
});
sp.registerTool(
  'store_result',
  ({ result }) => {
    if (saved.length > 1000) saved.length = 0;
    saved.push(result);
    return { id: saved.length };
  },
  { exposedToPython: true, parameters: [{ name: 'result', type: 'map', required: true }] },
);

const deadline = Date.now() + MINUTES * 60_000;
const sessions = POOLS.flatMap((p) => [0, 1, 2].map((k) => sp.session(`soak-${p.name}-${k}`, { pool: p.name })));

async function lane(): Promise<void> {
  while (Date.now() < deadline) {
    const pool = pick(POOLS).name;
    const opts = { pool, timeoutMs: CALL_TIMEOUT_MS };
    const r = Math.random();
    if (r < 0.35) await tracked('execute', () => sp.execute('echo', { message: 'hi', n: r }, opts));
    else if (r < 0.5)
      await tracked('stream', async () => {
        let done = false;
        try {
          await sp.executeStream('stream_progress', { steps: 4, delay_ms: 2 }, () => (done ? counts.lateChunks++ : counts.chunks++), opts);
        } finally {
          done = true;
        }
      });
    else if (r < 0.7) {
      const s = pick(sessions.filter((x) => x.pool === pool));
      await tracked('session', () => (Math.random() < 0.5 ? s.execute('counter_increment', { by: 1 }, { timeoutMs: CALL_TIMEOUT_MS }) : s.execute('remember', { key: 'k', value: r }, { timeoutMs: CALL_TIMEOUT_MS })));
    } else if (r < 0.9) {
      const s = pick(sessions.filter((x) => x.pool === pool));
      await tracked('host-tool', () => s.execute('process_with_validation', { data: [1, 2, 3] }, { timeoutMs: CALL_TIMEOUT_MS }));
    } else if (r < 0.95) await tracked('sleep', () => sp.execute('sleep', { ms: 30 }, opts));
    else await tracked('python-error', () => sp.execute('raise_error', { message: 'expected' }, opts));
  }
}

const chaos = { kill: 0, stop: 0, stopUnhandled: 0, bloat: 0 };
const chaosCalls: Promise<void>[] = [];
const stopChecks: Promise<void>[] = [];
async function chaosLoop(): Promise<void> {
  while (Date.now() < deadline) {
    await sleep(CHAOS_MS * (0.5 + Math.random()));
    if (Date.now() >= deadline) break;
    const workers = sp.listWorkers().filter((w) => w.pid !== undefined && w.state === 'ready');
    const action = pick(['kill', 'stop', 'bloat'] as const);
    if (action === 'bloat') {
      chaos.bloat++;
      chaosCalls.push(tracked('bloat', () => sp.execute('hold_memory', { mb: 120 }, { pool: pick(POOLS).name, timeoutMs: CALL_TIMEOUT_MS })));
      continue;
    }
    const w = workers.length > 0 ? pick(workers) : undefined;
    if (!w?.pid) continue;
    const pid = w.pid;
    try {
      process.kill(pid, action === 'kill' ? 'SIGKILL' : 'SIGSTOP');
    } catch {
      continue;
    }
    chaos[action]++;
    if (action === 'stop') {
      // The heartbeat (200 ms pings, 500 ms timeout, 2 misses) must kill it well within 5 s.
      stopChecks.push(
        sleep(5_000).then(() => {
          const state = processState(pid);
          if (state === 'T' || state === 't') {
            chaos.stopUnhandled++;
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              /* gone */
            }
          }
        }),
      );
    }
  }
}

const started = Date.now();
const work = Promise.all([...Array.from({ length: LANES }, lane), chaosLoop()]);
const settled = await Promise.race([work.then(() => true), sleep(MINUTES * 60_000 + SETTLE_MS).then(() => false)]);
await Promise.race([Promise.all([...chaosCalls, ...stopChecks]), sleep(SETTLE_MS)]);
const stats = sp.stats();
await sp.stop();
const issued = outcomes.size;
const lost = outcomes.lost();

// Leaks: give exiting processes a moment, then scan.
let leakedPids = processesOf(runId);
for (let i = 0; i < 20 && leakedPids.length > 0; i++) {
  await sleep(250);
  leakedPids = processesOf(runId);
}
const leakedShm = shmFilesOf(runId);
sessions.length = 0;
await sleep(2_000);
await gc();
const endRss = rssMb();
const endHeap = heapMb();
const endFds = fdCount();

const failures: string[] = [];
if (!settled) failures.push('load did not settle');
if (lost > 0) failures.push(`${lost} lost`);
if (counts.duplicated > 0) failures.push(`${counts.duplicated} duplicated`);
if (counts.untyped > 0) failures.push(`${counts.untyped} untyped errors (${untypedSamples.join('; ')})`);
if (counts.lateChunks > 0) failures.push(`${counts.lateChunks} chunks after the end`);
if (chaos.stopUnhandled > 0) failures.push(`${chaos.stopUnhandled} SIGSTOPped workers not killed by the heartbeat`);
if (OBSERVED && observed.pythonCallStops === 0) failures.push('no snakepit.python.call.stop with a handler on every event');
if (leakedPids.length > 0) failures.push(`leaked processes ${leakedPids.join(',')}`);
if (leakedShm.length > 0) failures.push(`leaked shm ${leakedShm.join(',')}`);
if (endRss > startRss + RSS_SLACK_MB) failures.push(`rss grew ${(endRss - startRss).toFixed(0)} MB`);
if (endFds > startFds + FD_SLACK) {
  const extra = readdirSync('/proc/self/fd').filter((fd) => !startFdList.includes(fd)).map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '?';
    }
  });
  failures.push(`fds grew by ${endFds - startFds} (${extra.slice(0, 5).join(', ')})`);
}

const kinds = [...byKind].map(([k, n]) => `${k} ${n}`).join(', ');
console.log(
  `soak ${((Date.now() - started) / 60_000).toFixed(1)} min, run ${runId}: requests ${issued} (${kinds}; chunks ${counts.chunks}) -> ok ${counts.ok}, typed errors ${counts.typed}, untyped ${counts.untyped}, lost ${lost}, duplicated ${counts.duplicated}; ` +
    `chaos SIGKILL ${chaos.kill}, SIGSTOP ${chaos.stop} (not killed by heartbeat ${chaos.stopUnhandled}), bloat ${chaos.bloat}; recycled ${stats.recycled} ${JSON.stringify(stats.lifecycle)}; ` +
    (OBSERVED ? `telemetry events ${observed.events} (python.call.stop ${observed.pythonCallStops}); ` : '') +
    `leaked processes ${leakedPids.length}, leaked shm ${leakedShm.length}; host rss ${startRss.toFixed(0)} -> ${endRss.toFixed(0)} MB, heap ${startHeap.toFixed(0)} -> ${endHeap.toFixed(0)} MB, fds ${startFds} -> ${endFds}: ${failures.length === 0 ? 'PASS' : `FAIL (${failures.join('; ')})`}`,
);
process.exit(failures.length === 0 ? 0 : 1);
