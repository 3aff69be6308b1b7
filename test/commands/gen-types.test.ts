// `snakepit gen types`: writes a deterministic file, --check exits 1 with a diff when stale, --json prints the specs,
// --pool limits the typed pools, and an adapter that does not import names itself with Python's traceback.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GenTypesResult, TypeSpecsDocument } from '../../src/typegen/generate.js';
import { cli, json } from '../helpers/cli.js';

const FIXTURES = path.resolve('test/fixtures/python');
const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-gen-types-'));

function config(name: string, pools: Record<string, unknown>[]): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ pools: pools.map((p) => ({ pythonPath: [FIXTURES], ...p })) }));
  return file;
}

describe('snakepit gen types', () => {
  const two = config('two', [
    { name: 'default', adapter: 'typed_adapter.TypedAdapter' },
    { name: 'echo', adapter: 'echo_adapter.EchoAdapter' },
  ]);
  const out = path.join(dir, 'types', 'tools.d.ts');

  it('writes the declarations of every pool, then leaves an unchanged file alone', async () => {
    const first = await cli<GenTypesResult>(['gen', 'types', '--config', two, '--out', out, '--json', '--check']);
    expect(first.exitCode).toBe(1); // nothing there yet: stale
    const r = await cli(['gen', 'types', '--config', two, '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain("declare module 'snakepit'");
    expect(text).toMatch(/^ {6}default: \{$/m);
    expect(text).toMatch(/^ {6}echo: \{$/m);
    expect(text).toContain('type Point = { x: number; y: number };');
    const again = await cli<GenTypesResult>(['gen', 'types', '--config', two, '--out', out, '--json', '--check']);
    expect(again.exitCode).toBe(0);
    expect(json<GenTypesResult>(again)).toMatchObject({ file: out, status: 'current', pools: [{ name: 'default', tools: expect.any(Number) }, { name: 'echo' }] });
  });

  it('--check exits 1 with a diff when the file is stale, and writes nothing', async () => {
    const edited = readFileSync(out, 'utf8').replace('x: number; y: number', 'x: string; y: number');
    writeFileSync(out, edited);
    const r = await cli(['gen', 'types', '--config', two, '--out', out, '--check']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('-type Point = { x: string; y: number };');
    expect(r.stderr).toContain('+type Point = { x: number; y: number };');
    expect(readFileSync(out, 'utf8')).toBe(edited);
    const rewritten = await cli<GenTypesResult>(['gen', 'types', '--config', two, '--out', out, '--json', '--check']);
    expect(json<GenTypesResult>(rewritten).status).toBe('stale');
  });

  it('--pool types only that pool; the others stay callable, untyped', async () => {
    const only = path.join(dir, 'only.d.ts');
    const r = await cli(['gen', 'types', '--config', two, '--out', only, '--pool', 'echo']);
    expect(r.exitCode, r.stderr).toBe(0);
    const text = readFileSync(only, 'utf8');
    expect(text).toContain('default: { [tool: string]: UntypedToolEntry };');
    expect(text).toMatch(/echo_value: \{/);
  });

  it('--json prints the specs of every pool (the machine-readable contract) and writes nothing', async () => {
    const r = await cli(['gen', 'types', '--config', two, '--json', '--out', path.join(dir, 'never.d.ts')]);
    expect(r.exitCode).toBe(0);
    const doc = json<TypeSpecsDocument>(r);
    expect(doc).toMatchObject({ version: 1, defaultPool: 'default', serialization: 'graceful' });
    expect(doc.pools.map((p) => [p.name, p.adapter])).toEqual([['default', 'typed_adapter.TypedAdapter'], ['echo', 'echo_adapter.EchoAdapter']]);
    const point = doc.pools[0]!.spec!.tools.find((t) => t.name === 'point')!;
    expect(point.params[0]).toEqual({ name: 'p', type: { kind: 'ref', name: 'typed_adapter.Point' }, required: true });
    expect(() => readFileSync(path.join(dir, 'never.d.ts'))).toThrow();
  });

  it('an unknown --pool fails with unknown_pool', async () => {
    const r = await cli(['gen', 'types', '--config', two, '--pool', 'nope', '--json']);
    expect(r.exitCode).toBe(1);
    expect(json<{ error: { code: string; details: { available: string[] } } }>(r).error).toMatchObject({ code: 'unknown_pool', details: { available: ['default', 'echo'] } });
  });

  it('an adapter that does not import fails with adapter_import, naming the pool and adapter, with the traceback', async () => {
    const broken = config('broken', [{ name: 'bad', adapter: 'broken_import_adapter.BrokenAdapter' }]);
    const r = await cli(['gen', 'types', '--config', broken, '--out', path.join(dir, 'broken.d.ts'), '--json']);
    expect(r.exitCode).toBe(1);
    const error = json<{ error: { code: string; details: Record<string, string> } }>(r).error;
    expect(error).toMatchObject({ code: 'adapter_import', details: { pool: 'bad', adapter: 'broken_import_adapter.BrokenAdapter' } });
    expect(error.details.traceback).toContain('broken_import_adapter.py');
    const text = await cli(['gen', 'types', '--config', broken, '--out', path.join(dir, 'broken.d.ts')]);
    expect(text.exitCode).toBe(1);
    expect(text.stderr).toContain('Traceback');
    expect(text.error).toMatchObject({ code: 'adapter_import' });
  });
});
