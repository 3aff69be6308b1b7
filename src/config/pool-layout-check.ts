/** The config's checks across fields: where attached workers may be used, and how pools sit beside the top level. */
import type { z } from 'zod';
import { checkAttachedTransport } from './discovery-schema.js';

/** Attached `workers` (and discovered ones) are started by something else: the host can neither spawn nor fork them. */
function checkAttachedStartMode(pool: Record<string, unknown>, path: (string | number)[], ctx: z.core.$RefinementCtx): void {
  if ((pool.workers === undefined && pool.discovery === undefined) || pool.startMode !== 'fork') return;
  ctx.addIssue({
    code: 'custom',
    path: [...path, 'startMode'],
    input: pool.startMode,
    message: 'attached `workers` are not started by the host',
    params: { expected: "'spawn' or unset (attached workers are started by something else)" },
  });
}

function checkAttached(pool: Record<string, unknown>, path: (string | number)[], ctx: z.core.$RefinementCtx): void {
  checkAttachedTransport(pool, path, ctx);
  checkAttachedStartMode(pool, path, ctx);
}

/**
 * Checks across fields of the whole config: attached workers' transport and start mode, per-pool
 * options (`legacyPoolKeys`) left at the top level beside `pools`, and duplicate pool names.
 */
export function checkPoolLayout(value: Record<string, unknown>, ctx: z.core.$RefinementCtx, legacyPoolKeys: readonly string[]): void {
  if (!Array.isArray(value.pools)) return checkAttached(value, [], ctx);
  value.pools.forEach((pool: unknown, index) => isRecord(pool) && checkAttached(pool, ['pools', index], ctx));
  for (const key of legacyPoolKeys) {
    if (value[key] === undefined) continue;
    ctx.addIssue({
      code: 'custom',
      path: [key],
      // Without it zod reports the whole refined config as the received value.
      input: value[key],
      message: `${key} is a per-pool option and cannot be at the top level together with pools`,
      params: { expected: 'unset at the top level when `pools` is given (move it into a pool)' },
    });
  }
  const seen = new Map<string, number>();
  value.pools.forEach((pool: unknown, index) => {
    const name = isRecord(pool) && typeof pool.name === 'string' ? pool.name : undefined;
    if (name === undefined) return;
    const first = seen.get(name);
    if (first === undefined) {
      seen.set(name, index);
      return;
    }
    ctx.addIssue({
      code: 'custom',
      path: ['pools', index, 'name'],
      input: name,
      message: `duplicate pool name ${name}`,
      params: { expected: 'a unique pool name', note: `\`pools[${first}]\` has the same name` },
    });
  });
}

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
