// The edit loop (`watch` start option, `snakepit run --watch`): editing an adapter rolls the workers over without a
// failed call and regenerates the types; an edit that does not import keeps the old workers serving.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonError, type PythonWatcher, type Snakepit, type WatchEvents } from '../../src/index.js';
import { startPool } from '../helpers/pool.js';
import { watchedAdapter } from '../helpers/watched-adapter.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-watch-'));
const ADAPTER_FILE = path.join(dir, 'watched_adapter.py');
const TYPES_FILE = path.join(dir, 'tools.d.ts');

function next<K extends keyof WatchEvents>(watcher: PythonWatcher, event: K): Promise<WatchEvents[K]> {
  return once(watcher as never, event, { signal: AbortSignal.timeout(45_000) }) as Promise<WatchEvents[K]>;
}

describe('watch', () => {
  let sp: Snakepit;
  let watcher: PythonWatcher;

  beforeAll(async () => {
    writeFileSync(ADAPTER_FILE, watchedAdapter(1));
    ({ sp } = await startPool({ adapter: 'watched_adapter.WatchedAdapter', pythonPath: [dir], poolSize: 2 }, {}, { watch: { debounceMs: 50, typesOut: TYPES_FILE, report: false } }));
    watcher = sp.watcher!;
  });
  afterAll(() => sp.stop());

  it('rolls the workers over to the edited code, fails no call, and regenerates the types', async () => {
    const before = sp.listWorkers('default').map((w) => w.id);
    const reloaded = next(watcher, 'reloaded');
    const typed = next(watcher, 'types');
    const inflight = sp.execute('slow', { ms: 400 });
    writeFileSync(ADAPTER_FILE, watchedAdapter(2, '    @tool\n    def added(self, n: int) -> int:\n        return n + 1\n'));
    const during = Array.from({ length: 20 }, () => sp.execute('version'));
    const [{ pool, workers }] = await reloaded;
    expect({ pool, workers }).toEqual({ pool: 'default', workers: 2 });
    expect(await inflight).toBe('v1.');
    for (const value of await Promise.all(during)) expect(['v1.', 'v2..']).toContain(value);
    expect(await sp.execute('version')).toBe('v2..');
    expect(await sp.execute('added', { n: 1 })).toBe(2);
    expect(sp.listWorkers('default').map((w) => w.id).filter((id) => before.includes(id))).toEqual([]);
    const [types] = await typed;
    expect(types.file).toBe(TYPES_FILE);
    expect(readFileSync(TYPES_FILE, 'utf8')).toMatch(/added: \{\n\s+args: \{ n: PyInt \};\n\s+result: PyInt;/);
  });

  it('keeps the old workers serving when the edit does not import, and reports the traceback', async () => {
    const before = sp.listWorkers('default').map((w) => w.id);
    const failed = next(watcher, 'failed');
    writeFileSync(ADAPTER_FILE, `${watchedAdapter(3)}\n    def broken(self:\n`);
    const [{ pool, error }] = await failed;
    expect(pool).toBe('default');
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ code: 'adapter_import', exceptionType: 'SyntaxError' });
    expect((error as PythonError).pythonTraceback).toContain('watched_adapter.py');
    expect(sp.listWorkers('default').map((w) => w.id)).toEqual(before);
    expect(await sp.execute('version')).toBe('v2..');

    const reloaded = next(watcher, 'reloaded');
    writeFileSync(ADAPTER_FILE, watchedAdapter(4));
    await reloaded;
    expect(await sp.execute('version')).toBe('v4....');
  });
});
