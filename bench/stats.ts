/** Percentiles and formatting for the benchmark report, and the workers' CPU time. */
import { readFileSync, readdirSync } from 'node:fs';

export function percentile(sortedUs: readonly number[], p: number): number {
  if (sortedUs.length === 0) return Number.NaN;
  const index = Math.min(sortedUs.length - 1, Math.floor((p / 100) * sortedUs.length));
  return sortedUs[index] ?? Number.NaN;
}

export interface LatencySummary {
  p50Us: number;
  p99Us: number;
  /** Host CPU (user + system, all threads) per timed call: load-insensitive beside wall-clock latency. */
  cpuUsPerCall: number;
}

/** Times `n` sequential calls of `fn`, after `warmup` untimed ones. */
export async function measureLatency(fn: () => Promise<unknown>, n: number, warmup: number): Promise<LatencySummary> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = new Array<number>(n);
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  const cpu = process.cpuUsage(cpuBefore);
  samples.sort((a, b) => a - b);
  return { p50Us: percentile(samples, 50), p99Us: percentile(samples, 99), cpuUsPerCall: (cpu.user + cpu.system) / n };
}

/** Calls per second with `inFlight` concurrent callers, over `total` calls. */
export async function measureThroughput(fn: () => Promise<unknown>, total: number, inFlight: number): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  const lane = async () => {
    while (next < total) {
      next++;
      await fn();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return total / seconds;
}

/** This process's children (the Python workers, or a floor's or peer's processes): their pids, from /proc. */
export function childPids(): string[] {
  return readdirSync('/proc').filter((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      return readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(process.pid);
    } catch {
      return false; // gone meanwhile
    }
  });
}

/** CPU µs used so far by this process's children (the Python workers). */
export function childrenCpuUs(): number {
  let total = 0;
  for (const pid of childPids()) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * 10_000; // utime + stime, in 10 ms ticks
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Read and write syscalls and voluntary context switches (sleeps, all threads) so far (/proc/<pid>/io) of this process (`self`) and of its children together. */
export function syscallCounts(): { self: { reads: number; writes: number; sleeps: number }; children: { reads: number; writes: number; sleeps: number } } {
  const io = (pid: string) => {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    let sleeps = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        sleeps += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8'))![1]);
      } catch {
        // thread gone
      }
    }
    return { reads: Number(/syscr: (\d+)/.exec(text)![1]), writes: Number(/syscw: (\d+)/.exec(text)![1]), sleeps };
  };
  const children = { reads: 0, writes: 0, sleeps: 0 };
  for (const pid of childPids()) {
    try {
      const c = io(pid);
      children.reads += c.reads;
      children.writes += c.writes;
      children.sleeps += c.sleeps;
    } catch {
      // gone meanwhile
    }
  }
  return { self: io('self'), children };
}
