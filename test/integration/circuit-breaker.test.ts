// A breaker around a pool's calls opens on a crashing adapter, fails fast, and closes after recovery;
// a HealthMonitor attached to the pool counts the real crashes.
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitOpenError, HealthMonitor, PoolCircuit, type Snakepit } from '../../src/index.js';
import { startPool, waitForFullPool } from '../helpers/pool.js';

const CONFIG = { enabled: true, failureThreshold: 2, resetTimeoutMs: 30_000, halfOpenMaxCalls: 1 };

describe('circuit breaker on a crashing pool', () => {
  let sp: Snakepit | undefined;
  let health: HealthMonitor | undefined;
  let detach: (() => void) | undefined;
  afterEach(async () => {
    detach?.();
    health?.close();
    await sp?.stop();
    sp = undefined;
  });

  it('opens after the threshold of crashes, fails fast without reaching the pool, closes after a good probe', async () => {
    ({ sp } = await startPool({ poolSize: 1, adapter: 'crash_adapter.CrashAdapter' }));
    const pool = sp.pool();
    health = new HealthMonitor({ pool: 'default', maxCrashes: 2 });
    detach = health.attachToPool(pool);
    // The breaker's clock is ours: recovery is a step of the test, not a wait.
    let now = 1_000_000;
    const circuit = new PoolCircuit(CONFIG, 'default', { now: () => now });
    const call = (tool: string, args: Record<string, unknown> = {}) => circuit.run(() => sp!.execute(tool, args));

    await expect(call('pid')).resolves.toEqual(expect.any(Number));
    for (let i = 0; i < CONFIG.failureThreshold; i++) {
      await expect(call('crash', { code: 3 })).rejects.toMatchObject({ code: 'worker_crashed' });
      await waitForFullPool(sp, 1);
    }
    expect(circuit.stats()).toMatchObject({ state: 'open', failureCount: 2 });
    expect(health.stats()).toMatchObject({ crashesInWindow: 2, isHealthy: false });

    const requests = pool.stats().requests;
    const refused = await call('pid').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(refused).toMatchObject({ code: 'circuit_open', retryAfterMs: CONFIG.resetTimeoutMs });
    expect(pool.stats().requests).toBe(requests);

    now += CONFIG.resetTimeoutMs;
    expect(circuit.breaker?.state).toBe('half-open');
    await expect(call('pid')).resolves.toEqual(expect.any(Number));
    expect(circuit.stats()).toMatchObject({ state: 'closed', failureCount: 0 });
    await expect(call('pid')).resolves.toEqual(expect.any(Number));
  });

  it('reopens when the half-open probe crashes too', async () => {
    ({ sp } = await startPool({ poolSize: 1, adapter: 'crash_adapter.CrashAdapter' }));
    let now = 0;
    const circuit = new PoolCircuit({ ...CONFIG, failureThreshold: 1 }, 'default', { now: () => now });
    const call = (tool: string, args: Record<string, unknown> = {}) => circuit.run(() => sp!.execute(tool, args));

    await expect(call('kill_self')).rejects.toMatchObject({ code: 'worker_crashed' });
    await waitForFullPool(sp, 1);
    now += CONFIG.resetTimeoutMs;
    await expect(call('kill_self')).rejects.toMatchObject({ code: 'worker_crashed' });
    await waitForFullPool(sp, 1);
    expect(circuit.stats()).toMatchObject({ state: 'open', totalFailures: 2 });
    await expect(call('pid')).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('does not count Python exceptions: the worker answered', async () => {
    ({ sp } = await startPool({ poolSize: 1 }));
    const circuit = new PoolCircuit({ ...CONFIG, failureThreshold: 1 }, 'default');
    for (let i = 0; i < 3; i++) {
      await expect(circuit.run(() => sp!.execute('process_list', { items: [1], operation: 'median' }))).rejects.toMatchObject({ code: 'python_error' });
    }
    expect(circuit.stats()).toMatchObject({ state: 'closed', failureCount: 0 });
  });

  it("is built into the pool with the config's circuitBreaker: a failing pool fails fast", async () => {
    ({ sp } = await startPool({ poolSize: 1, adapter: 'crash_adapter.CrashAdapter' }, { circuitBreaker: { enabled: true, failureThreshold: 2 } }));
    for (let i = 0; i < 2; i++) {
      await expect(sp.execute('kill_self')).rejects.toMatchObject({ code: 'worker_crashed' });
      await waitForFullPool(sp, 1);
    }
    const requests = sp.stats().requests;
    await expect(sp.execute('pid')).rejects.toMatchObject({ code: 'circuit_open' });
    expect(sp.stats().requests).toBe(requests);
  });
});
