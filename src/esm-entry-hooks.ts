/**
 * Loads one file (a `snakepit run` script, a `.ts` config) as an ES module whatever package.json's
 * `type` says, through a resolve hook registered for that file.
 */
import { register } from 'node:module';

// `npm init -y` writes "type": "commonjs", and a folder without package.json reads as CommonJS too:
// tsx then hands a file with `import` and top-level `await` to require(), which fails
// (ERR_REQUIRE_CYCLE_MODULE), or compiles a config to CommonJS, which cannot load the ESM-only
// snakepit. Only the given file is switched; the modules it imports keep the format their package
// gives them, and a `.cjs`/`.cts` file stays CommonJS, as its name says. The hook runs on Node's
// loader thread: a data: URL module, so that it loads the same from dist/ and from src/ (tests).
const HOOKS = `
const files = new Set();
export function initialize(data) { files.add(data.fileUrl); }
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const url = new URL(resolved.url);
  url.search = ''; // tsx's namespaced tsImport adds a query
  if (!files.has(url.href) || /\\.c[jt]s$/.test(url.pathname)) return resolved;
  const format = resolved.format; // Node >= 22.7 also says 'commonjs-typescript'
  return format === 'commonjs' || format === 'commonjs-typescript' || format == null ? { ...resolved, format: 'module' } : resolved;
}
`;

/**
 * Makes `fileUrl` load as an ES module from now on in this process. Register it after tsx's hooks
 * when tsx is registered globally (hooks chain last-in first, so it sees tsx's answer).
 */
export function loadAsEsm(fileUrl: string): void {
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { fileUrl } });
}
