// Type tests, compiled with the TypeScript compiler: calls without generated types compile as before; with them
// (examples/types/typed-tools.d.ts) the typed example and type assertions compile, and every marked mistake fails
// with its diagnostic code. Each generated example file compiles on its own.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve('.');
const MISTAKES = 'test/types/typed/typed-mistakes.ts';

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } });
  // No outDir: with one, `import 'snakepit'` (dist/src/index.d.ts) would be mapped back to src/.
  // skipLibCheck off: the generated .d.ts files are what is checked.
  return { ...parsed!.options, noEmit: true, outDir: undefined, skipLibCheck: false };
}

/** Diagnostics of `files` only (not of the libraries they use): `file:line code`. */
function diagnose(files: readonly string[]): { file: string; line: number; code: number; text: string }[] {
  const program = ts.createProgram(files.map((f) => path.join(ROOT, f)), compilerOptions());
  const out = [...program.getGlobalDiagnostics(), ...program.getOptionsDiagnostics()].map((d) => ({ file: '', line: 0, code: d.code, text: ts.flattenDiagnosticMessageText(d.messageText, '\n') }));
  for (const file of files) {
    const source = program.getSourceFile(path.join(ROOT, file))!;
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      out.push({ file, line: source.getLineAndCharacterOfPosition(d.start ?? 0).line + 1, code: d.code, text: ts.flattenDiagnosticMessageText(d.messageText, '\n') });
    }
  }
  return out;
}

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
