// guides/configuration.md: its example configs load and resolve as described, and its option tables
// name every option of the schema with the schema's default (src/config/schema.ts is the one home of defaults).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig, poolSchema, resolveConfig } from '../../src/config/index.js';

const GUIDE = path.resolve('guides/configuration.md');

/** `| \`option\` | default | meaning |` rows of the guide's tables: option path -> default cell. */
function documentedDefaults(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync(GUIDE, 'utf8').split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    const option = /^`([\w.]+)`$/.exec(cells[1] ?? '');
    if (option?.[1] && cells.length >= 4) rows.set(option[1], cells[2] ?? '');
  }
  return rows;
}

/** A default cell written as one literal: `5000`, `'pool'`, `true`, `[]`, `{}` -> its value; else undefined. */
function literal(cell: string): { value: unknown } | undefined {
  const m = /^`([^`]+)`$/.exec(cell);
  if (!m?.[1]) return undefined;
  const text = m[1].replace(/(\d)_(\d)/g, '$1$2');
  if (/^'[^']*'$/.test(text)) return { value: text.slice(1, -1) };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

function valueAt(object: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((o, key) => (o as Record<string, unknown> | undefined)?.[key], object);
}

describe('configuration guide', () => {
  it('the complete example loads: three pools, inherited and overridden options', async () => {
    const { config, source } = await loadConfig({ file: 'examples/configuration.config.ts' });
    expect(source).toBe(path.resolve('examples/configuration.config.ts'));
    expect(config.pools.map((p) => [p.name, p.workerProfile, p.poolSize])).toEqual([
      ['default', 'process', 4],
      ['ml_inference', 'thread', 4],
      ['background', 'process', 2],
    ]);
    const [general, ml, background] = config.pools;
    expect(general?.poolQueueTimeoutMs).toBe(10_000); // inherited from the top level
    expect(ml?.heartbeat).toEqual({ enabled: true, pingIntervalMs: 10_000, timeoutMs: 60_000, maxMissedHeartbeats: 2, initialDelayMs: 0, dependent: true });
    expect(background?.heartbeat.pingIntervalMs).toBe(5_000);
    expect(background?.workerTtl).toEqual({ value: 1, unit: 'hours' });
    expect(config.crashBarrier).toMatchObject({ enabled: true, maxRestarts: 10, windowSeconds: 300, maxRetries: 1 });
    expect(ml?.toolTimeouts).toEqual({ train: 3_600_000, health: 2_000 });
    expect(ml?.crashBarrier).toEqual({ ...config.crashBarrier, retry: 'never' }); // one field over the top level's
    expect(general?.crashBarrier).toEqual(config.crashBarrier);
    expect(config.logLevel).toBe(process.env.NODE_ENV === 'production' ? 'warn' : 'info');
  });

  it('the legacy form makes one pool named default', async () => {
    const { config } = await loadConfig({ file: 'examples/configuration-legacy.config.ts' });
    expect(config.pools).toHaveLength(1);
    expect(config.pools[0]).toMatchObject({ name: 'default', poolSize: 4, adapter: 'myapp.adapters.GeneralAdapter', startupBatchSize: 8 });
  });

  it('documents every option of the schema with its default', () => {
    const documented = documentedDefaults();
    const defaults = resolveConfig({});
    const pool = defaults.pools[0];
    const options = new Set<string>();
    // An object default is documented field by field, at any depth (`crashBarrier.retryBackoff.initialMs`).
    const add = (key: string): void => {
      const value = valueAt(defaults, key) ?? valueAt(pool, key);
      const nested = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0 && key !== 'adapterEnv';
      if (nested) for (const sub of Object.keys(value)) add(`${key}.${sub}`);
      else options.add(key);
    };
    for (const key of [...Object.keys(configSchema.shape), ...Object.keys(poolSchema.shape)]) add(key);
    expect([...options].filter((option) => !documented.has(option)).sort()).toEqual([]);

    const mismatches: string[] = [];
    for (const option of options) {
      const cell = documented.get(option) ?? '';
      const actual = valueAt(defaults, option) ?? valueAt(pool, option);
      const written = literal(cell);
      if (written && JSON.stringify(written.value) !== JSON.stringify(actual)) mismatches.push(`${option}: guide ${cell}, schema ${JSON.stringify(actual)}`);
      if (!written && actual === undefined && !cell.startsWith('unset')) mismatches.push(`${option}: the schema has no default; the guide says ${cell}`);
    }
    expect(mismatches).toEqual([]);
  });
});
