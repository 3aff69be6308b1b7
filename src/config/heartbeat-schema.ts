/** The `heartbeat` option: the top-level settings every pool starts from, and a pool's field-by-field override. */
import { z } from 'zod';
import { loosen, nonNegInt, posInt } from './schema-fields.js';

const heartbeatShape = {
  /** Ping workers to detect hung ones. @default true */
  enabled: z.boolean().default(true).describe('Ping workers to detect hung ones.'),
  /** Time between pings, in ms. @default 2000 */
  pingIntervalMs: posInt().default(2_000).describe('Time between pings, in ms.'),
  /** How long a ping may take before it counts as missed, in ms. @default 10000 */
  timeoutMs: posInt().default(10_000).describe('How long a ping may take before it counts as missed, in ms.'),
  /** Missed pings in a row before the worker is declared dead and restarted. @default 3 */
  maxMissedHeartbeats: posInt().default(3).describe('Missed pings in a row before the worker is restarted.'),
  /** Delay before the first ping, in ms. @default 0 */
  initialDelayMs: nonNegInt().default(0).describe('Delay before the first ping, in ms.'),
  /** Whether the Python worker exits when it stops hearing from the host. @default true */
  dependent: z.boolean().default(true).describe('Whether the worker exits when it stops hearing from the host, and the host kills a worker that misses maxMissedHeartbeats pings (false: marked unresponsive, no new calls until it answers).'),
};

/** Heartbeat settings; the top-level `heartbeat` is the default for every pool. */
export const heartbeatSchema = z.strictObject(heartbeatShape);

/** A pool's `heartbeat`: every field optional; unset fields inherit the top-level `heartbeat`. */
export const heartbeatOverrideSchema = z.strictObject(loosen(heartbeatShape));
