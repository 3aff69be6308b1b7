// The supervision guide's example, run through `snakepit run` as guides/supervision.md tells users to:
// a worker killed mid-call (idempotent retry), a frozen worker found by heartbeats, recycling, resizing, the run id.
import { describe, expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';

describe('supervision example', () => {
  it('examples/supervision.ts: crash and replacement, heartbeat kill, recycling, resizing, run id', async () => {
    const r = await runExample('examples/supervision.ts', { config: 'examples/supervision.config.ts' });
    expect(r.exitCode).toBe(0);
    const out = r.stdout.split('\n').map((line) => line.replace(/ {2,}/, ' ')).join('\n');
    expect(out).toMatch(/^retried call \{"slept_ms":500,"pid":\d+\}$/m);
    // An outside SIGKILL is `oom` where the cgroup's OOM count cannot be read, else `signal`.
    expect(out).toMatch(
      /^web events \["exit (web-\d) SIGKILL","crash \1 (signal|oom)","health degraded \(1\/2 workers\)","ready web-3","health healthy \(2\/2 workers\)"\]$/m,
    );
    expect(out).toMatch(/^retries, health \{"retries":1,"status":"healthy","crashes":1,"restarts":1\}$/m);
    expect(out).toMatch(
      /^call on frozen \{"code":"worker_hung","crash":\{"reason":"heartbeat","classification":"unknown","signal":"SIGKILL","exitCode":null,"hostReason":"heartbeat: 2 missed"\}\}$/m,
    );
    expect(out).toMatch(
      /^web events \["heartbeat-missed (web-\d) 1\/2","heartbeat-missed \1 2\/2","exit \1 SIGKILL","crash \1 heartbeat","ready web-4"\]$/m,
    );
    expect(out).toMatch(/^pids of 4 calls \["first","first","first","second"\]$/m);
    expect(out).toMatch(/^by hand \{"workerId":"batch-2","replacementId":"batch-3","reason":"manual"\}$/m);
    expect(out).toMatch(/^recycled \["batch-1 max_requests","batch-2 manual"\]$/m);
    expect(out).toMatch(/^lifecycle \{"ttl":0,"max_requests":1,"memory":0,"manual":1\}$/m);
    // Resizing: grown by one, calls on the chosen worker, removed only after its call finished.
    expect(out).toMatch(/^grown \{"from":2,"to":3\}$/m);
    expect(out).toMatch(/^ran on it true$/m);
    expect(out).toMatch(/^its call \{"slept_ms":300,"pid":\d+\}$/m);
    expect(out).toMatch(/^removed, size \{"removed":true,"size":2,"workers":2\}$/m);
    if (process.platform === 'linux') expect(out).toMatch(/^run id on argv true$/m);
    // The registry: this run, its three workers (web 2, batch 1), all alive.
    expect(out).toMatch(/^registry\s+\{"own":true,"hostAlive":true,"workers":3,"allAlive":true\}$/m);
    // stderr: only the host's warnings about the two workers it lost.
    for (const line of r.stderr.split('\n').filter(Boolean)) {
      expect(line).toMatch(/^\[snakepit( web-\d)?\] warn: (Worker web-\d exited \(|Heartbeat missed \()/);
    }
  });
});
