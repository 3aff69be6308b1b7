/** The `crashBarrier` option (the original's `crash_barrier`): top-level defaults, and a pool's field-by-field override. */
import { z } from 'zod';
import { expecting } from './format-issues.js';
import { loosen, nonNegInt, oneOf, posInt } from './schema-fields.js';

/**
 * Crash kinds `markOn` may name: the original's classifications (`segfault`: SIGSEGV or exit 139,
 * `abort`: SIGABRT or exit 134, `oom`, `gpu`: the worker's last stderr lines mention CUDA or a GPU)
 * and our own crash reasons (`signal`, `exit_code`, `heartbeat`, `killed_by_host`, `disconnected`).
 */
export const CRASH_KINDS = ['segfault', 'abort', 'oom', 'gpu', 'signal', 'exit_code', 'heartbeat', 'killed_by_host', 'disconnected'] as const;
/** One of {@link CRASH_KINDS}. */
export type CrashKind = (typeof CRASH_KINDS)[number];

const retryBackoffShape = {
  /** Wait before the first retry, in ms. @default 50 */
  initialMs: nonNegInt().default(50).describe('Wait before the first retry, in ms.'),
  /** Each further retry waits this many times longer. @default 2 */
  multiplier: expecting(z.number().min(1), 'a number >= 1').default(2).describe('Factor between the waits of two retries.'),
  /** Longest wait between two attempts, in ms. @default 200 */
  maxMs: nonNegInt().default(200).describe('Longest wait between two attempts, in ms.'),
};

const crashBarrierShape = {
  /** @default false */
  enabled: z.boolean().default(false).describe('Remove workers that keep crashing, taint crashed ones, retry calls that hit a crash.'),
  /** Restarts allowed within `windowSeconds`. @default 5 */
  maxRestarts: posInt().default(5).describe('Restarts allowed within the window.'),
  /** @default 60 */
  windowSeconds: posInt().default(60).describe('Window for counting restarts, in seconds.'),
  /**
   * Which calls that hit a crashed (or hung) worker run again on another worker: `'idempotent'`
   * those made with `idempotent: true`, `'always'` every one, `'never'` none. @default 'idempotent'
   */
  retry: oneOf(['always', 'idempotent', 'never']).default('idempotent').describe("Calls retried after their worker crashed: 'always', 'idempotent' or 'never'."),
  /** Retries of such a call. @default 1 */
  maxRetries: nonNegInt().default(1).describe('Retries of a call after a worker crash.'),
  /**
   * Waits between attempts: `initialMs` before the first retry, then `multiplier` times longer each
   * time, at most `maxMs` (the defaults give the original's 50, 100, 200 ms).
   */
  retryBackoff: z.strictObject(retryBackoffShape).prefault({}).describe('Waits between the attempts of a retried call.'),
  /** After a crash that `markOn` names, how long the worker slot is avoided, in ms. @default 5000 */
  taintMs: nonNegInt().default(5_000).describe('Time a crashed worker slot is avoided, in ms.'),
  /** The crash kinds that taint the slot (the original's `mark_on`). @default ['segfault', 'oom', 'gpu'] */
  markOn: expecting(z.array(z.enum(CRASH_KINDS)), `an array of crash kinds (${CRASH_KINDS.map((k) => `'${k}'`).join(', ')})`)
    .default((): CrashKind[] => ['segfault', 'oom', 'gpu'])
    .describe('Crash kinds that taint the slot.'),
};

/** The top-level `crashBarrier`: every pool's default. */
export const crashBarrierSchema = z.strictObject(crashBarrierShape).prefault({}).describe('Crash barrier for frequently crashing workers.');

/** A pool's `crashBarrier`: the fields it sets go over the top level's, `retryBackoff` field by field too. */
export const crashBarrierOverrideSchema = z
  .strictObject({ ...loosen(crashBarrierShape), retryBackoff: z.strictObject(loosen(retryBackoffShape)).optional().describe('Overrides of the retry waits.') })
  .optional()
  .describe('Crash barrier overrides for this pool; unset fields inherit the top-level crashBarrier.');
