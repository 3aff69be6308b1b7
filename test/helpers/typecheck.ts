// Compiles files with the TypeScript compiler (the repository's options) and returns their diagnostics.
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve('.');

export interface Diagnostic {
  /** The file as given ('' for program-wide diagnostics). */
  file: string;
  line: number;
  code: number;
  text: string;
}

function compilerOptions(): ts.CompilerOptions {
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d: ts.Diagnostic) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } };
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, host)!;
  // No outDir: with one, `import 'snakepit'` (dist/src/index.d.ts) would be mapped back to src/.
  // skipLibCheck off: generated .d.ts files are among what is checked.
  return { ...parsed.options, noEmit: true, outDir: undefined, rootDir: undefined, skipLibCheck: false };
}

/**
 * Diagnostics of `files` (paths relative to the repository root, or absolute) only, not of the
 * libraries they use. Files outside the repository import 'snakepit' from dist/ too.
 */
export function typecheck(files: readonly string[]): Diagnostic[] {
  const options = { ...compilerOptions(), paths: { snakepit: [path.join(ROOT, 'dist/src/index.d.ts')] } };
  const program = ts.createProgram(files.map((f) => path.resolve(ROOT, f)), options);
  const out: Diagnostic[] = [...program.getGlobalDiagnostics(), ...program.getOptionsDiagnostics()].map((d) => ({ file: '', line: 0, code: d.code, text: ts.flattenDiagnosticMessageText(d.messageText, '\n') }));
  for (const file of files) {
    const source = program.getSourceFile(path.resolve(ROOT, file))!;
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      out.push({ file, line: source.getLineAndCharacterOfPosition(d.start ?? 0).line + 1, code: d.code, text: ts.flattenDiagnosticMessageText(d.messageText, '\n') });
    }
  }
  return out;
}
