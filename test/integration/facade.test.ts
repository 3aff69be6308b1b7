// The public facade: default instance, runAsScript, multi-pool routing, stats totals, config errors.
import { describe, expect, it } from 'vitest';
import { ConfigError, execute, getDefaultInstance, listWorkers, session, Snakepit, stats } from '../../src/index.js';
import { FIXTURES, processAlive, TRANSPORT } from '../helpers/pool.js';

const quiet = { logSink: () => {} };

describe('module-level functions', () => {
  it('fail with pool_not_started when no instance runs', async () => {
    expect(() => getDefaultInstance()).toThrow(expect.objectContaining({ code: 'pool_not_started' }));
    await expect(Promise.resolve().then(() => execute('ping'))).rejects.toMatchObject({ code: 'pool_not_started' });
  });

  it('use the first started instance until it stops', async () => {
    const sp = await Snakepit.start({ poolSize: 1, transport: TRANSPORT }, quiet);
    try {
      expect(getDefaultInstance()).toBe(sp);
      await expect(execute('add', { a: 1, b: 2 })).resolves.toMatchObject({ result: 3 });
      await expect(session('s').execute('recall', { key: 'none' })).resolves.toMatchObject({ found: false });
      expect(stats().requests).toBe(2);
      expect(listWorkers()).toHaveLength(1);
    } finally {
      await sp.stop();
    }
    expect(() => getDefaultInstance()).toThrow(expect.objectContaining({ code: 'pool_not_started' }));
  });
});

describe('Snakepit.runAsScript', () => {
  it("resolves with the function's result and stops the workers", async () => {
    let pids: number[] = [];
    const result = await Snakepit.runAsScript(
      async (sp) => {
        pids = sp.listWorkers().map((w) => w.pid!);
        return sp.execute<{ result: number }>('add', { a: 2, b: 3 });
      },
      { config: { poolSize: 2, transport: TRANSPORT }, ...quiet },
    );
    expect(result).toMatchObject({ result: 5 });
    expect(pids).toHaveLength(2);
    expect(pids.filter(processAlive)).toEqual([]);
  });

  it('stops the workers when the function throws', async () => {
    let pids: number[] = [];
    const failing = Snakepit.runAsScript(
      (sp) => {
        pids = sp.listWorkers().map((w) => w.pid!);
        throw new RangeError('script bug');
      },
      { config: { poolSize: 1, transport: TRANSPORT }, ...quiet },
    );
    await expect(failing).rejects.toBeInstanceOf(RangeError);
    expect(pids.filter(processAlive)).toEqual([]);
  });
});

describe('several pools', () => {
  it('routes by pool name, sums stats, and names the pools on a typo', async () => {
    const sp = await Snakepit.start(
      { pools: [{ name: 'default', poolSize: 1, transport: TRANSPORT }, { name: 'echo', poolSize: 2, transport: TRANSPORT, adapter: 'echo_adapter.EchoAdapter', pythonPath: [FIXTURES] }] },
      quiet,
    );
    try {
      await expect(sp.execute('add', { a: 1, b: 1 })).resolves.toMatchObject({ result: 2 });
      await expect(sp.execute('echo', { x: 1 }, { pool: 'echo' })).resolves.toEqual({ x: 1 });
      expect(sp.stats()).toMatchObject({ requests: 2, workers: 3 });
      expect(sp.stats('echo')).toMatchObject({ requests: 1, workers: 2 });
      expect(sp.listWorkers().map((w) => w.pool).sort()).toEqual(['default', 'echo', 'echo']);
      await expect(sp.execute('ping', {}, { pool: 'ecno' })).rejects.toMatchObject({ code: 'unknown_pool', details: { available: ['default', 'echo'] } });
      await expect(sp.stream('ping', {}, { pool: 'ecno' }).next()).rejects.toMatchObject({ code: 'unknown_pool' });
    } finally {
      await sp.stop();
    }
  });
});

describe('one pool not named default', () => {
  it('awaitReady() and execute() without a pool name use it', async () => {
    const sp = await Snakepit.start({ pools: [{ name: 'ml', poolSize: 1, transport: TRANSPORT }] }, quiet);
    try {
      await sp.awaitReady();
      expect(sp.listWorkers('ml').map((w) => w.state)).toEqual(['ready']);
      await expect(sp.execute('add', { a: 1, b: 2 })).resolves.toMatchObject({ result: 3 });
    } finally {
      await sp.stop();
    }
  });
});

describe('config errors at start', () => {
  it('rejects an invalid config with the field, the expectation and the value, starting nothing', async () => {
    const error = (await Snakepit.start({ pools: [{ name: 'default', poolSize: 0, transport: TRANSPORT }] }, quiet).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('invalid_config');
    expect(error.issues[0]).toMatchObject({ path: 'pools[0].poolSize', received: '0 (number)' });
  });

  it('refuses attached workers without the grpc transport', async () => {
    await expect(Snakepit.start({ transport: 'pipe', workers: [{ address: '127.0.0.1:1' }] }, quiet)).rejects.toMatchObject({ code: 'invalid_config', issues: [{ path: 'transport' }] });
  });
});
