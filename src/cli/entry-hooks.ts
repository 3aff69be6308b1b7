/** Loader hooks of `snakepit run`: the script itself loads as an ES module whatever package.json's `type` says. */
import type { InitializeHook, ResolveHook } from 'node:module';

/** What `module.register` passes to `initialize`. */
export interface EntryHooksData {
  entryUrl: string;
}

const entryUrls = new Set<string>();

// Runs on the loader thread; one registration per `snakepit run` entry.
export const initialize: InitializeHook<EntryHooksData> = (data) => {
  entryUrls.add(data.entryUrl);
};

// `npm init -y` writes "type": "commonjs", and a folder without package.json reads as CommonJS too:
// tsx then hands an entry with `import` and top-level `await` to require(), which fails
// (ERR_REQUIRE_CYCLE_MODULE). The entry alone is switched to ESM; the modules it imports keep the
// format their package gives them, and a `.cjs`/`.cts` entry stays CommonJS, as its name says.
export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const resolved = await nextResolve(specifier, context);
  if (!entryUrls.has(resolved.url) || /\.c[jt]s$/.test(new URL(resolved.url).pathname)) return resolved;
  const format: string | null | undefined = resolved.format; // Node >= 22.7 adds the '...-typescript' formats
  return format === 'commonjs' || format === 'commonjs-typescript' || format == null ? { ...resolved, format: 'module' } : resolved;
};
