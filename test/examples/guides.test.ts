// Examples of the thread-profile and serialization guides (guides/threading.md, guides/graceful-serialization.md),
// run as the guides tell users to: `snakepit run` for the TypeScript ones, the venv's Python for the Python ones.
import { describe, expect, it } from 'vitest';
import { runExample, runPython } from '../helpers/examples.js';

describe('guide examples: threading', () => {
  it('examples/threading.ts with examples/threading.config.ts: the thread pools serve the showcase and MyAdapter', async () => {
    const r = await runExample('examples/threading.ts', { config: 'examples/threading.config.ts' });
    expect(r.exitCode).toBe(0);
    const hpc = JSON.parse(/^hpc stats (\{.*\})$/m.exec(r.stdout)?.[1] ?? 'null') as { thread_safe: boolean; max_workers: number; total_computations: number };
    expect(hpc).toMatchObject({ thread_safe: true, max_workers: 8, total_computations: 1 });
    expect(r.stdout).toMatch(/^predictions 1000 true$/m);
    expect(r.stdout).toMatch(/^ml worker capacity 8$/m);
    const ml = JSON.parse(/^ml stats (\{.*\})$/m.exec(r.stdout)?.[1] ?? 'null') as { requestCount: number; peakActive: number; maxWorkers: number };
    expect(ml.requestCount).toBe(1000);
    expect(ml.maxWorkers).toBe(8);
    expect(ml.peakActive).toBeLessThanOrEqual(8);
  });

  it('examples/python/thread_safety.py: the checker sees the unlocked counter and nothing in MyAdapter', async () => {
    const r = await runPython('examples/python/thread_safety.py');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^checker \{'request_count': 100, 'unsafe_writes': \{\}\}$/m);
    expect(r.stdout).toMatch(/^race \{'unsafe_writes': \['Counters\.unlocked'\]\}$/m);
    expect(r.stdout).toMatch(/^products \{'results': 8\}$/m);
  });

  it('examples/python/torch_adapter.py compiles (it runs only where PyTorch is installed)', async () => {
    const r = await runPython('-m', 'py_compile', 'examples/python/torch_adapter.py');
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });
});

describe('guide examples: graceful serialization', () => {
  it('examples/graceful-serialization.ts with its config: mapped values, the marker, and strict failing the call', async () => {
    const r = await runExample('examples/graceful-serialization.ts', { config: 'examples/graceful-serialization.config.ts' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'when: "2024-01-02T03:04:05+00:00"',
      'took: 1.5',
      'price: "9.99"',
      'id: "12345678-1234-5678-1234-567812345678"',
      'tags: ["b"]',
      'color: "red"',
      'point: {"x":1,"y":2}',
      'big: 1180591620717411303424n',
      'lock: no mapping for _thread.lock (<unlocked _thread.lo...)',
      'strict: unserializable, type _thread.lock',
    ]);
  });
});

describe('guide examples: production', () => {
  it('examples/production.ts with examples/production.config.ts: the readiness probe and the ops events', async () => {
    const r = await runExample('examples/production.ts', { config: 'examples/production.config.ts' });
    expect(r.exitCode).toBe(0);
    const probe = /^probe 200 (\[.*\])$/m.exec(r.stdout)?.[1];
    const pools = JSON.parse(probe ?? 'null') as { name: string; status: string; workers: number; size: number }[];
    expect(pools.map((p) => [p.name, p.status, p.workers === p.size])).toEqual([
      ['default', 'healthy', true],
      ['hpc', 'healthy', true],
    ]);
    expect(r.stdout).toMatch(/^\[ops\] snakepit\.pool\.worker\.recycled \{"pool":"default","workerId":"default-\d+","reason":"manual","memoryThresholdMb":\d+\}$/m);
    expect(r.stdout).toMatch(/^after recycle healthy true$/m);
  });
});
