// Type tests, compiled with the TypeScript compiler: calls without generated types compile as before; with them
// (examples/types/typed-tools.d.ts) the typed example and type assertions compile, and every marked mistake fails
// with its diagnostic code. Each generated example file compiles on its own.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { typecheck as diagnose } from '../../helpers/typecheck.js';

const ROOT = path.resolve('.');
const MISTAKES = 'test/types/typed/typed-mistakes.ts';

/** The `// ✗ <code>` markers of a file: line -> code. */
function markers(file: string): Map<number, number> {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  return new Map(lines.flatMap((line, i) => {
    const m = /\/\/ ✗ (\d+)\b/.exec(line);
    return m ? [[i + 1, Number(m[1])] as const] : [];
  }));
}

describe('type tests', () => {
  it('without generated types, calls compile as before (any tool name, records of arguments, unknown or given results)', () => {
    expect(diagnose(['test/types/untyped-calls.ts'])).toEqual([]);
  });

  it('with generated types, the typed example and the type assertions compile with no casts, and every mistake fails with its code', () => {
    const found = diagnose(['examples/types/typed-tools.d.ts', 'examples/typed-tools.ts', 'test/types/typed/typed-calls.ts', MISTAKES]);
    const expected = markers(MISTAKES);
    expect(expected.size).toBeGreaterThanOrEqual(14);
    expect(found.filter((d) => d.file !== MISTAKES)).toEqual([]);
    const byLine = new Map(found.map((d) => [d.line, d.code]));
    expect(byLine).toEqual(expected);
  });

  it.each(readdirSync(path.join(ROOT, 'examples/types')).filter((f) => f.endsWith('.d.ts')))('examples/types/%s compiles on its own', (file) => {
    expect(diagnose([`examples/types/${file}`])).toEqual([]);
  });
});
