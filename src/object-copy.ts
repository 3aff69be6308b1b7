/**
 * Copies of plain objects that get more fields after the copy. Not `{ ...source, extra }` or
 * `const copy = { ...source }; copy.extra = x`: on Node 20 (V8 11.3) each property added to an
 * object made by a spread costs ~0.5 µs (measured; ~15 ns on Node 24), where an object built from
 * `{}` takes a few ns per property.
 */

/**
 * A fresh object with `source`'s own enumerable string keys (as a spread copies them), except
 * `skip`. A `__proto__` key stays a plain field, as in a spread (an assignment would set the
 * copy's prototype): for objects decoded from a worker's frames.
 */
export function copyFields(source: Readonly<Record<string, unknown>> | null | undefined, skip?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!source) return out;
  for (const key of Object.keys(source)) {
    if (key === skip) continue;
    if (key === '__proto__') Object.defineProperty(out, key, { value: source[key], enumerable: true, writable: true, configurable: true });
    else out[key] = source[key];
  }
  return out;
}
